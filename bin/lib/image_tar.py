"""An image of one layer for another architecture, as `docker load` reads it.

usage: image_tar.py LAYER_TAR ARCH TAG > image.tar

`docker import` takes no platform on this engine (its --platform needs the
experimental daemon), so the arm64 base image of the emulation test is written
here in `docker save`'s layout: the layer, a config whose architecture is ARCH
(`arm64`), and manifest.json naming TAG.
"""
import hashlib
import io
import json
import sys
import tarfile


def main():
    layer_path, arch, tag = sys.argv[1:4]
    with open(layer_path, "rb") as f:
        layer = f.read()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": arch,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "bin/lib/arm64.sh"}],
    }
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": ["layer/layer.tar"]}]).encode()
    out = tarfile.open(fileobj=sys.stdout.buffer, mode="w|")
    for name, data in [(config_name, config_bytes), ("layer/layer.tar", layer), ("manifest.json", manifest)]:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        out.addfile(info, io.BytesIO(data))
    out.close()


if __name__ == "__main__":
    main()
