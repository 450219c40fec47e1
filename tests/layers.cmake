# The layer rule of docs/architecture.md, checked on the sources (CTest `layers`, label fast):
# dependencies point down only. For each layer folder, the project headers its files may include
# (by prefix), and the system headers only some files may use:
#   common/    common/
#   crypto/    common/ crypto/
#   ike/wire/  common/ crypto/ ike/wire/
#   kernel/    common/ crypto/ kernel/
#   ike/       common/ crypto/ ike/ and of kernel/ only the interface, kernel/kernel.hpp
#   config/    common/ crypto/ ike/ config/
#   Boost.Asio only in daemon/; libmnl only in the XFRM and rtnetlink backends' .cpp files.
# Usage: cmake -DSOURCE_DIR=<repo> -P tests/layers.cmake  (exit status 1 lists each violation)
if(NOT SOURCE_DIR)
  message(FATAL_ERROR "layers.cmake: -DSOURCE_DIR=<repo> is required")
endif()

set(allow_common common/)
set(allow_crypto common/ crypto/)
set(allow_ike_wire common/ crypto/ ike/wire/)
set(allow_kernel common/ crypto/ kernel/)
set(allow_ike common/ crypto/ ike/ kernel/kernel.hpp)
set(allow_config common/ crypto/ ike/ config/)

set(violations "")
set(checked 0)

# check_layer(FOLDER VAR): every `#include "..."` of FOLDER's own files (not its subfolders, which
# are layers of their own) must start with one of the prefixes in allow_VAR.
function(check_layer folder var)
  file(GLOB files ${SOURCE_DIR}/${folder}/*.cpp ${SOURCE_DIR}/${folder}/*.hpp)
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${lines})
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
      set(ok FALSE)
      foreach(prefix ${allow_${var}})
        string(FIND "${inc}" "${prefix}" at)
        if(at EQUAL 0)
          set(ok TRUE)
        endif()
      endforeach()
      if(NOT ok)
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
        string(JOIN " " allowed ${allow_${var}})
        list(APPEND violations "${rel} includes \"${inc}\" (layer ${folder}/ may include ${allowed})")
      endif()
    endforeach()
    math(EXPR n "${checked} + 1")
    set(checked ${n})
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
  set(checked ${checked} PARENT_SCOPE)
endfunction()

check_layer(common common)
check_layer(crypto crypto)
check_layer(ike/wire ike_wire)
check_layer(kernel kernel)
check_layer(ike ike)
check_layer(config config)

# System headers that belong to one place.
file(GLOB_RECURSE all_sources ${SOURCE_DIR}/common/*.?pp ${SOURCE_DIR}/crypto/*.?pp
     ${SOURCE_DIR}/ike/*.?pp ${SOURCE_DIR}/kernel/*.?pp ${SOURCE_DIR}/config/*.?pp
     ${SOURCE_DIR}/daemon/*.?pp)
foreach(f ${all_sources})
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
  file(STRINGS ${f} asio REGEX "^[ \t]*#[ \t]*include[ \t]*<boost/asio")
  if(asio AND NOT rel MATCHES "^daemon/")
    list(APPEND violations "${rel} includes Boost.Asio (only daemon/ may)")
  endif()
  file(STRINGS ${f} mnl REGEX "^[ \t]*#[ \t]*include[ \t]*<libmnl/")
  if(mnl AND NOT rel MATCHES "^kernel/(xfrm_kernel|xfrm_messages|rtnl_routes)\\.cpp$")
    list(APPEND violations "${rel} includes libmnl (only the netlink backends' .cpp files may)")
  endif()
endforeach()

if(checked LESS 50)
  message(FATAL_ERROR "layers.cmake: only ${checked} files found under ${SOURCE_DIR}")
endif()
if(violations)
  list(LENGTH violations count)
  foreach(v ${violations})
    message(STATUS "layer violation: ${v}")
  endforeach()
  message(FATAL_ERROR "${count} layer violation(s) in ${checked} files")
endif()
message(STATUS "layers: ${checked} files, every include points down")
