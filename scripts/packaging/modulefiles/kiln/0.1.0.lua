-- Lmod modulefile for kiln, installed with
--     cmake --install build/release --prefix /opt/apps/kiln/0.1.0
-- Put this file in a directory on MODULEPATH as kiln/0.1.0.lua and edit `root`.
-- Then:  module load kiln/0.1.0 ; kiln --version ; sbatch $KILN_SLURM/pipeline.sbatch
help([[
kiln 0.1.0: materials data ingest, search and batched model inference in one MPI job.
  kiln --help                   commands and exit codes
  kiln --config JOB.ini         run a job file ($KILN_JOBS holds examples)
  $KILN_SLURM/*.sbatch          batch scripts (ingest, GPU inference, pipeline, requeue)
]])
whatis("Name: kiln")
whatis("Version: 0.1.0")
whatis("Category: materials science, data management, machine learning")
whatis("Description: HDF5 datasets with MDF-style metadata and search; LibTorch inference over MPI")

local root = "/opt/apps/kiln/0.1.0"

-- kiln runs with the MPI and HDF5 it was built against; uncomment with your site's names.
-- depends_on("openmpi")
-- depends_on("hdf5")

prepend_path("PATH", pathJoin(root, "bin"))
prepend_path("CMAKE_PREFIX_PATH", root)           -- find_package(kiln)
prepend_path("CPATH", pathJoin(root, "include"))
setenv("KILN_ROOT", root)
setenv("KILN_BACKEND_DIR", pathJoin(root, "lib", "kiln"))   -- libkiln_torch.so
setenv("KILN_JOBS", pathJoin(root, "share", "kiln", "jobs"))
setenv("KILN_SLURM", pathJoin(root, "share", "kiln", "slurm"))
-- Lustre/DVS and NFS need HDF5 file locking off; harmless elsewhere.
setenv("HDF5_USE_FILE_LOCKING", "FALSE")
