// The model used when none is named: $BERTC_MODEL, else the default installed by tools/setup.sh
// at ${XDG_DATA_HOME:-$HOME/.local/share}/bertc/default.bertc. The CLI and the Python package
// look it up the same way.
#pragma once

#include <string>

namespace bertc {

std::string default_model_path();

}  // namespace bertc
