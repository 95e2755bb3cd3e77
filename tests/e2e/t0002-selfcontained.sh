# The binary needs nothing but itself: static, and it runs alone as the
# root of an empty file system.
. tests/lib.sh

run file "$KEDGE"
like "$out" "statically linked" "file says statically linked"
run ldd "$KEDGE"
like "$out$err" "not a dynamic executable" "ldd says not a dynamic executable"

root="$TMP/root"
mkdir "$root"
cp "$KEDGE" "$root/kedge"
is "$(ls -A "$root")" "kedge" "the new root holds only the binary"

# chroot needs root; otherwise a user namespace gives the same view.
if [ "$(id -u)" = 0 ]; then
	enter() { chroot "$root" "$@"; }
else
	enter() { unshare -r --root="$root" "$@"; }
fi

run enter /kedge version
is "$rc" 0 "kedge version runs alone in an empty root"
like "$out" "libgit2" "and lists its libraries"

run enter /kedge lua -e '
local yaml, json = require "kedge.yaml", require "kedge.json"
local v = assert(yaml.decode("a: [1, 2.5, yes, ~]\nb: {c: d}\n"))
local again = assert(yaml.decode(yaml.encode(assert(json.decode(json.encode(v))))))
io.write(json.encode(again))'
is "$rc" 0 "a YAML round trip runs alone in an empty root"
is "$out" '{"a":[1,2.5,true,null],"b":{"c":"d"}}' "and gives the right value"

done_testing
