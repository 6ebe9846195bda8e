#!/usr/bin/env bash
# Checks the ODR rule of the per-ISA kernel files (CMakeLists.txt, kernels/cpu/isa_ns.h): an object
# compiled from kernels/cpu/<op>_<isa>.cc may define external symbols only in bertc::cpu::<isa>
# (its kernels) or bertc::cpu::isa_<isa> (its copies of the shared inline code). Anything else, e.g.
# an out-of-line std::vector<float> member or an inline bertc function, would be one symbol with
# the baseline build's copy, and the linker could give baseline code the ISA's instructions.
# Usage: tools/check_isa_symbols.sh OBJECT... (ctest passes every object of bertc_kernels).
set -euo pipefail
status=0 checked=0
for obj in "$@"; do
  [[ $obj =~ _(avx2|avx512|amx|neon)\.cc\.o$ ]] || continue
  isa=${BASH_REMATCH[1]}
  checked=$((checked + 1))
  # Mangled: _Z, optional special-name letters (guard variables, TLS wrappers, local statics),
  # then the nested name bertc::cpu::<isa> or bertc::cpu::isa_<isa>. DW.ref.__gxx_personality_v0
  # is the compiler's (hidden, identical everywhere) pointer to the C++ unwinding routine.
  ns="N5bertc3cpu(${#isa}${isa}|$((${#isa} + 4))isa_${isa})"
  bad=$(nm --defined-only --extern-only "$obj" | awk '{ print $3 }' |
        grep -v -E "^(_Z[A-Z]*${ns}|DW\.ref\.__gxx_personality_v0$)" || true)
  if [ -n "$bad" ]; then
    echo "$(basename "$obj"): external symbols outside bertc::cpu::$isa / bertc::cpu::isa_$isa:"
    echo "$bad" | c++filt | sed 's/^/  /'
    status=1
  fi
done
[ "$checked" -gt 0 ] || { echo "check_isa_symbols: no per-ISA objects among the arguments"; exit 1; }
[ "$status" -eq 0 ] && echo "check_isa_symbols: $checked per-ISA objects export only their namespaces"
exit $status
