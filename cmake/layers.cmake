# The layers of docs/architecture.md as libraries: snorky_<layer>, each built
# from src/<layer>/ and linking the layers it may use. A layer sees its own
# public headers (include/snorky/<layer>/) and those of the layers it links,
# nothing more: each gets an include root of its own under
# <build>/layers/<layer>/ that holds only a link to its folder, and only
# those roots are on the compiler's path. An #include of a higher layer's
# header is therefore "No such file" at compile time. Private headers
# (src/<layer>/*.hpp) are seen by their own layer only.

# Sets <out> to the public include root of <layer> (created on first use).
function(snorky_layer_root layer out)
  set(root ${CMAKE_BINARY_DIR}/layers/${layer}/public)
  if(NOT EXISTS ${root}/snorky/${layer})
    file(MAKE_DIRECTORY ${root}/snorky)
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/include/snorky/${layer} ${root}/snorky/${layer} SYMBOLIC)
  endif()
  set(${out} ${root} PARENT_SCOPE)
endfunction()

# snorky_layer(<layer> [USES <libraries>...] [PRIVATE_USES <libraries>...]
#              [EXCLUDE <file name>...])
function(snorky_layer layer)
  cmake_parse_arguments(LAYER "" "" "USES;PRIVATE_USES;EXCLUDE" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${layer}/*.cpp)
  foreach(name ${LAYER_EXCLUDE})
    list(REMOVE_ITEM sources ${CMAKE_SOURCE_DIR}/src/${layer}/${name})
  endforeach()
  add_library(snorky_${layer} STATIC ${sources})
  snorky_layer_root(${layer} public_root)
  set(private_root ${CMAKE_BINARY_DIR}/layers/${layer}/private)
  if(NOT EXISTS ${private_root}/${layer})
    file(MAKE_DIRECTORY ${private_root})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${layer} ${private_root}/${layer} SYMBOLIC)
  endif()
  target_include_directories(snorky_${layer}
    PUBLIC $<BUILD_INTERFACE:${public_root}> $<INSTALL_INTERFACE:include>
    PRIVATE ${private_root})
  target_link_libraries(snorky_${layer} PUBLIC ${LAYER_USES} PRIVATE ${LAYER_PRIVATE_USES})
endfunction()
