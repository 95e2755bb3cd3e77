# Building blocks for the OCI layouts the image tests make by hand (no
# image builder here): content-addressed blobs, gzip'd ustar layers with
# their diff_ids, and an image's config and manifest. Imported by the
# python heredocs of tests/servers/images.sh and tests/e2e/t0965-images.sh.
import gzip, hashlib, io, json, os, tarfile


class Layout:
    def __init__(self, out):
        self.out = out
        os.makedirs(out + "/blobs/sha256", exist_ok=True)

    def blob(self, data):
        d = hashlib.sha256(data).hexdigest()
        with open(self.out + "/blobs/sha256/" + d, "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}

    # a layer of (name, bytes) files: (its descriptor, its diff_id)
    def layer(self, files):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
            for name, data in files:
                ti = tarfile.TarInfo(name)
                ti.size, ti.mtime, ti.mode = len(data), 0, 0o755
                t.addfile(ti, io.BytesIO(data))
        raw = raw.getvalue()
        return (dict(self.blob(gzip.compress(raw, mtime=0)),
                     mediaType="application/vnd.oci.image.layer.v1.tar+gzip"),
                "sha256:" + hashlib.sha256(raw).hexdigest())

    # an image of layers for linux/arch: its manifest's descriptor
    def image(self, arch, layers, cmd="/hello"):
        cfg = {"architecture": arch, "os": "linux", "config": {"Cmd": [cmd]},
               "rootfs": {"type": "layers", "diff_ids": [l[1] for l in layers]}}
        c = dict(self.blob(json.dumps(cfg).encode()),
                 mediaType="application/vnd.oci.image.config.v1+json")
        m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": c, "layers": [l[0] for l in layers]}
        return dict(self.blob(json.dumps(m).encode()), mediaType=m["mediaType"])

    # index.json naming each descriptor (name -> descriptor), and oci-layout
    def finish(self, refs):
        with open(self.out + "/index.json", "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [
                dict(d, annotations={"org.opencontainers.image.ref.name": n})
                for n, d in refs.items()]}, f)
        with open(self.out + "/oci-layout", "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
