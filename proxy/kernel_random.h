// OpenSSL's random numbers straight from the kernel (getrandom(2)) instead of its DRBG. The DRBG
// costs a process about 0.4 ms of CPU the first time anything asks for randomness (it fetches
// AES-256-CTR, building the default provider's table of every cipher); a job CA is the first
// thing `exec` makes, on its way to the job. The kernel's generator is the one the DRBG seeds
// from, and needs no reseeding after fork.
#pragma once

namespace nixjail::proxy {

// Installs the kernel generator for the whole process, once (later calls do nothing). Call it
// before any thread uses OpenSSL.
void useKernelRandomness();

}  // namespace nixjail::proxy
