#!/usr/bin/env bash
# Image metadata from kiln extract agrees with Pillow (python3-pil) on images Pillow writes:
# width and height for PNG, JPEG, GIF, BMP and TIFF; channels and colour depth for PNG and TIFF;
# the number of pages of a TIFF stack (Pillow's n_frames). TIFFs: 8- and 16-bit grey, 32-bit
# float (detector images), RGB and RGBA, LZW- and deflate-compressed, a 3-page stack, and a
# TIFF cut short (an error on the record, not a crash).
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
Image.new("L", (31, 17)).save(f"{d}/gray8.tif")
Image.new("I;16", (640, 480)).save(f"{d}/detector16.tif", compression="tiff_lzw")
Image.new("F", (12, 10)).save(f"{d}/float32.tiff")
Image.new("RGB", (9, 4)).save(f"{d}/rgb.tif", compression="tiff_adobe_deflate")
Image.new("RGBA", (3, 5)).save(f"{d}/rgba.tif")
Image.new("L", (20, 30)).save(f"{d}/stack.tif", save_all=True,
                               append_images=[Image.new("L", (20, 30)), Image.new("L", (20, 30))])
whole = open(f"{d}/gray8.tif", "rb").read()
open(f"{d}/cut.tif", "wb").write(whole[:20])  # its first directory cut short
PY
rc=0
"$KILN" extract "$SCRATCH"/rgba.png "$SCRATCH"/gray.png "$SCRATCH"/deep.png "$SCRATCH"/photo.jpg \
    "$SCRATCH"/anim.gif "$SCRATCH"/raw.bmp "$SCRATCH"/*.tif "$SCRATCH"/*.tiff \
    > "$SCRATCH/records.jsonl" || rc=$?
[ "$rc" = 65 ] || fail "kiln extract exited $rc, expected 65 (the cut TIFF's record has an error)"
$PY - "$SCRATCH/records.jsonl" <<'PY'
import json, sys
import warnings
from PIL import Image
warnings.filterwarnings("ignore")
bits = {"RGBA": 32, "L": 8, "I;16": 16, "I": 16, "RGB": 24, "F": 32}  # 16-bit PNG opens as "I"
seen = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    path = r["kiln"]["path"]
    seen += 1
    if path.endswith("cut.tif"):
        assert "unreadable TIFF" in r["kiln"]["error"], r
        try:
            Image.open(path)
            raise AssertionError("Pillow read the cut TIFF")
        except OSError:  # UnidentifiedImageError
            pass
        print("ok", path.split("/")[-1], r["kiln"]["error"])
        continue
    assert "error" not in r["kiln"], r
    im = Image.open(path)
    img = r["image"]
    assert (img["width"], img["height"]) == im.size, (path, img, im.size)
    if path.endswith((".png", ".tif", ".tiff")):
        assert img["channels"] == len(im.getbands()), (path, img, im.mode)
        assert img["color_depth"] == bits[im.mode], (path, img, im.mode)
    if path.endswith((".tif", ".tiff")):
        assert img["format"] == "tiff" and img["pages"] == getattr(im, "n_frames", 1), (path, img)
    assert r["kiln"]["format"] == "image" and r["files"][0]["mime_type"].startswith("image/")
    print("ok", path.split("/")[-1], img)
assert seen == 13, seen
PY
pass "image metadata agrees with Pillow"
