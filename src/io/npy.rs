//! NPY and NPZ files (numpy's format): memory-mapped reading and streaming writing.
