// Backend selection: the one #ifdef BERTC_WITH_CUDA in bertc.
#include "engine/make_backend.h"

namespace bertc {

bool cuda_built() {
#ifdef BERTC_WITH_CUDA
  return true;
#else
  return false;
#endif
}

}  // namespace bertc
