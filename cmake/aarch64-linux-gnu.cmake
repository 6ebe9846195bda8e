# CMake toolchain file: bertc for arm64 Linux, cross-compiled on x86-64 Debian with
# g++-aarch64-linux-gnu, run under qemu-aarch64. libc, libstdc++ and libgomp come with the cross
# compiler (/usr/aarch64-linux-gnu); the other dependencies come from an arm64 sysroot made of
# Debian packages (tools/cross_test.sh builds it with apt-get download + dpkg -x).
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DBERTC_SYSROOT=DIR      (or BERTC_SYSROOT in the environment)
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(NOT BERTC_SYSROOT)
  set(BERTC_SYSROOT "$ENV{BERTC_SYSROOT}")
endif()
if(NOT IS_DIRECTORY "${BERTC_SYSROOT}/usr/include")
  message(FATAL_ERROR "BERTC_SYSROOT='${BERTC_SYSROOT}' is not an arm64 sysroot "
                      "(tools/cross_test.sh aarch64 makes one)")
endif()
# try_compile projects read this file again: hand them the sysroot too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BERTC_SYSROOT)

# Headers, libraries and package configs from the sysroot only (never the host's x86-64 ones);
# programs (pkg-config, git) from the host.
set(CMAKE_FIND_ROOT_PATH "${BERTC_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_LIBDIR} "${BERTC_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${BERTC_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${BERTC_SYSROOT}")

# Headers that Debian puts under the multiarch directory (openssl/opensslconf.h): the cross
# compiler searches its own /usr/aarch64-linux-gnu/include, not the sysroot's.
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${BERTC_SYSROOT}/usr/include/aarch64-linux-gnu")

# Debian keeps some libraries in /lib (libz, libbz2) and the rest in /usr/lib. The linker needs
# both to resolve what the shared libraries themselves link (libzip -> libssl, libbz2), and the
# loader needs them at run time: DT_RPATH (not RUNPATH) covers those indirect libraries too.
set(_bertc_libdirs "${BERTC_SYSROOT}/usr/lib/aarch64-linux-gnu:${BERTC_SYSROOT}/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${_bertc_libdirs} -Wl,-rpath,${_bertc_libdirs} -Wl,--disable-new-dtags")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")

# ctest, gtest_discover_tests and the CLI tests' wrapper (tests/CMakeLists.txt) run the arm64
# binaries through this. Cortex-A72 is armv8.0-A with NEON and nothing newer, so a baseline build
# that used a later instruction would die with SIGILL here. BERTC_QEMU_CPU picks another model.
if(NOT BERTC_QEMU_CPU)
  set(BERTC_QEMU_CPU "$ENV{BERTC_QEMU_CPU}")
endif()
if(NOT BERTC_QEMU_CPU)
  set(BERTC_QEMU_CPU cortex-a72)
endif()
find_program(BERTC_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${BERTC_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu;-cpu;${BERTC_QEMU_CPU}")
