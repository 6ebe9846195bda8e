// Backend selection: the only place that knows whether CUDA was built in.
#pragma once

namespace bertc {

bool cuda_built();  // true when this binary contains the CUDA backend

}  // namespace bertc
