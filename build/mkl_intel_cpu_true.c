/* libtorch's bundled MKL picks its AVX-512 kernels only when it believes the CPU is Intel's. Loading this
   one-function library with RTLD_GLOBAL before libtorch lets MKL take that path on AMD Zen processors too.
   Undocumented MKL behaviour: optional, used for training speed and for the strongest TorchSharp baseline. */
int mkl_serv_intel_cpu_true(void) { return 1; }
