#!/usr/bin/env bash
# Image metadata from kiln extract agrees with Pillow (python3-pil) on images Pillow writes:
# width and height for PNG, JPEG, GIF and BMP, and channels and colour depth for PNG.
source "$(dirname "$0")/lib.sh"
$PY - "$SCRATCH" <<'PY'
import sys
from PIL import Image
d = sys.argv[1]
Image.new("RGBA", (37, 21), (1, 2, 3, 4)).save(f"{d}/rgba.png")
Image.new("L", (5, 640)).save(f"{d}/gray.png")
Image.new("I;16", (8, 9)).save(f"{d}/deep.png")
Image.new("RGB", (123, 45), (200, 10, 10)).save(f"{d}/photo.jpg", quality=90)
Image.new("P", (16, 16)).save(f"{d}/anim.gif")
Image.new("RGB", (7, 3)).save(f"{d}/raw.bmp")
PY
"$KILN" extract "$SCRATCH"/rgba.png "$SCRATCH"/gray.png "$SCRATCH"/deep.png "$SCRATCH"/photo.jpg \
    "$SCRATCH"/anim.gif "$SCRATCH"/raw.bmp > "$SCRATCH/records.jsonl"
$PY - "$SCRATCH/records.jsonl" <<'PY'
import json, sys
from PIL import Image
bits = {"RGBA": 32, "L": 8, "I;16": 16, "I": 16, "RGB": 24}  # Pillow opens 16-bit PNG as "I"
for line in open(sys.argv[1]):
    r = json.loads(line)
    path = r["kiln"]["path"]
    assert "error" not in r["kiln"], r
    im = Image.open(path)
    img = r["image"]
    assert (img["width"], img["height"]) == im.size, (path, img, im.size)
    if path.endswith(".png"):
        assert img["channels"] == len(im.getbands()), (path, img, im.mode)
        assert img["color_depth"] == bits[im.mode], (path, img, im.mode)
    assert r["kiln"]["format"] == "image" and r["files"][0]["mime_type"].startswith("image/")
    print("ok", path.split("/")[-1], img)
PY
pass "image metadata agrees with Pillow"
