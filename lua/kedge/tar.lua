-- kedge.tar: a minimal ustar writer (POSIX.1-1988 ustar, the format
-- every tar reader takes), for OCI archives (kedge.images.install) and
-- packs (kedge.pack --tar): folders and regular files, names up to 255
-- bytes through ustar's prefix field, sizes under 8 GiB, owner root,
-- time 0 so the same files make the same bytes. Files are copied in
-- pieces, never held whole.
local M = {}

M.BLOCK = 512
local COPY = 1 << 20

local function octal(n, width)
  -- width - 1 digits and a NUL, as ustar numeric fields are
  local s = string.format("%0" .. (width - 1) .. "o", n)
  assert(#s == width - 1, "a tar field is too small for " .. n)
  return s .. "\0"
end

-- The name and prefix fields of a path: names past 100 bytes are cut at
-- a "/" into a prefix of at most 155 bytes, or nil, err.
local function split_name(name)
  if #name <= 100 then return "", name end
  local cut = name:sub(1, 155):match("^(.*)/")
  if not cut or #name - #cut - 1 > 100 then return nil, name .. ": too long for a tar entry" end
  return cut, name:sub(#cut + 2)
end

-- One header block: name, size, typeflag ("0" file, "5" folder), mode
-- (default 0644 for files, 0755 for folders), or nil, err.
function M.header(name, size, typeflag, mode)
  local prefix, short = split_name(name)
  if not prefix then return nil, short end
  local function pad(s, n) return s .. string.rep("\0", n - #s) end
  local fields = {
    pad(short, 100),
    octal(mode or (typeflag == "5" and 493 or 420), 8), -- 0755, 0644
    octal(0, 8), octal(0, 8),
    octal(size, 12), octal(0, 12),
    "        ", -- the checksum, as spaces while it is summed
    typeflag,
    pad("", 100),
    "ustar\0", "00",
    pad("root", 32), pad("root", 32),
    octal(0, 8), octal(0, 8),
    pad(prefix, 155), pad("", 12),
  }
  local h = table.concat(fields)
  local sum = 0
  for i = 1, #h do sum = sum + h:byte(i) end
  h = h:sub(1, 148) .. string.format("%06o", sum) .. "\0 " .. h:sub(157)
  assert(#h == M.BLOCK)
  return h
end

local Writer = {}
Writer.__index = Writer

-- A writer on an open file handle f (the caller opens and closes it).
function M.writer(f) return setmetatable({f = f, bytes = 0}, Writer) end

function Writer:put(s)
  local ok, err = self.f:write(s)
  if not ok then return nil, err end
  self.bytes = self.bytes + #s
  return true
end

function Writer:header(name, size, typeflag, mode)
  local h, err = M.header(name, size, typeflag, mode)
  if not h then return nil, err end
  return self:put(h)
end

function Writer:dir(name, mode) return self:header(name, 0, "5", mode) end

local function padding(n) return string.rep("\0", (M.BLOCK - n % M.BLOCK) % M.BLOCK) end

-- A file entry from bytes in memory.
function Writer:data(name, bytes)
  local ok, err = self:header(name, #bytes, "0")
  if ok then ok, err = self:put(bytes .. padding(#bytes)) end
  return ok, err
end

-- A file entry copied from path; size is what the caller expects it to
-- hold (a file that changed meanwhile is an error, not a broken archive).
function Writer:file(name, path, size, mode)
  local src, oerr = io.open(path, "rb")
  if not src then return nil, oerr end
  local ok, err = self:header(name, size, "0", mode)
  local left = size
  while ok and left > 0 do
    local piece = src:read(math.min(COPY, left))
    if not piece then ok, err = nil, path .. ": shorter than " .. size .. " bytes" break end
    left = left - #piece
    ok, err = self:put(piece)
  end
  if ok and src:read(1) then ok, err = nil, path .. ": longer than " .. size .. " bytes" end
  src:close()
  if ok then ok, err = self:put(padding(size)) end
  return ok, err
end

-- The end of the archive: two zero blocks.
function Writer:finish() return self:put(string.rep("\0", 2 * M.BLOCK)) end

return M
