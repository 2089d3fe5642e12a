#!/usr/bin/env bash
# kiln verify passes on a clean dataset and exits 65 naming the file for a flipped byte in
# packed data, in a record table, or a missing shard.
source "$(dirname "$0")/lib.sh"
mkdir -p "$SCRATCH/in/x"
for i in $(seq 1 30); do head -c 20000 /dev/urandom > "$SCRATCH/in/x/f$i.bin"; done
expect_exit 0 "$KILN" ingest "$SCRATCH/in" --out "$SCRATCH/d" --shard-files 10
expect_exit 0 "$KILN" verify "$SCRATCH/d"
S=$SCRATCH/d/shards/shard-000001.h5
cp "$S" "$SCRATCH/saved.h5"
# Flip one byte inside the packed data of the first record.
off=$($PY -c "
import h5py, sys
f = h5py.File(sys.argv[1], 'r')
print(f['blob'].id.get_chunk_info(0).byte_offset + 100)" "$S")
printf '\xff' | dd of="$S" bs=1 seek="$off" conv=notrunc status=none
expect_exit 65 "$KILN" verify "$SCRATCH/d"
expect_output "shard-000001.h5"
expect_output "bytes have xxh3"
cp "$SCRATCH/saved.h5" "$S"
expect_exit 0 "$KILN" verify "$SCRATCH/d"
rm "$S"
expect_exit 65 "$KILN" verify "$SCRATCH/d"
expect_output "missing"
pass "verify detects corruption"

# The search index: a flipped byte in a segment is found and named; a rebuild mends it.
cp "$SCRATCH/saved.h5" "$S"
expect_exit 0 "$KILN" verify "$SCRATCH/d"
expect_output "index of"
G=$SCRATCH/d/index/segment-000002.h5
size=$(stat -c %s "$G")
printf '\x5a' | dd of="$G" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_exit 65 "$KILN" verify "$SCRATCH/d"
expect_output "segment-000002.h5: checksum differs"
expect_exit 0 "$KILN" index "$SCRATCH/d" --rebuild
expect_exit 0 "$KILN" verify "$SCRATCH/d"
pass "verify detects a damaged index segment; kiln index --rebuild mends it"

# The merged index: verify reads every page of it; a flipped byte is named, the search that
# reads it refuses (exit 65), and kiln index --rebuild merges it again.
expect_exit 0 "$KILN" index "$SCRATCH/d" --merge
expect_exit 0 "$KILN" verify "$SCRATCH/d"
expect_output "merged"
M=$SCRATCH/d/index/merged.h5
read -r off query < <($PY - "$M" <<'PY'
import h5py, sys
f = h5py.File(sys.argv[1], "r")
names = [n.decode() for n in f["fields/name"][:]]
begin = [int(x) for x in f["fields/term_begin"][:]]
i = next(k for k in range(len(names)) if begin[k + 1] > begin[k])  # first field with terms
ends = [int(x) for x in f["terms/value_offsets"][:]]
values = bytes(f["terms/values"][:])
term = values[ends[begin[i]]:ends[begin[i] + 1]].decode()
# A paged column is stored as written (contiguous, or compact inside its object header when
# small): its bytes are found in the file by their content.
at = open(sys.argv[1], "rb").read().find(values)
assert at >= 0 and f["terms/values"].attrs["xxh3_page_bytes"] > 0
print(at + ends[begin[i]], f'{names[i]}:"{term}"')
PY
)
printf '\x5a' | dd of="$M" bs=1 seek="$off" conv=notrunc status=none
expect_exit 65 "$KILN" verify "$SCRATCH/d"
expect_output "merged.h5"
expect_exit 65 "$KILN" search "$SCRATCH/d" "$query"
expect_output "merged.h5"
expect_exit 0 "$KILN" index "$SCRATCH/d" --rebuild
expect_exit 0 "$KILN" verify "$SCRATCH/d"
expect_output "merged"
pass "verify detects a damaged merged index; search refuses it; kiln index --rebuild mends it"
