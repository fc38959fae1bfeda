# `make package`: Debian packages built by CPack from the install rules.
#   snorky      the server and snorky-call, /etc/snorky/snorky.toml (a conffile),
#               the systemd unit, man pages made from --help, the docs
#   snorky-dev  the connector's headers, static library and CMake package
# Only the components below are packaged (the server's own headers and
# libraries are not installed: they are no stable interface).
include(GNUInstallDirs)

install(FILES ${CMAKE_SOURCE_DIR}/packaging/snorky.toml DESTINATION /etc/snorky COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/snorky.service DESTINATION lib/systemd/system COMPONENT server)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/CHANGELOG.md ${CMAKE_SOURCE_DIR}/LICENSE
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT server
  FILES_MATCHING PATTERN "*.md")

# Man pages from --help (scripts/help-to-man.sh), gzipped as Debian wants.
set(snorky_man_pages)
foreach(program snorky snorky-call)
  if(NOT TARGET ${program})
    continue()
  endif()
  if(program STREQUAL "snorky")
    set(summary "real-time server: WebSocket PubSub, messaging, chat, cursors and DataSync")
  else()
    set(summary "call a Snorky backend service from the command line")
  endif()
  set(page ${CMAKE_BINARY_DIR}/man/${program}.1.gz)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "'${CMAKE_SOURCE_DIR}/scripts/help-to-man.sh' '$<TARGET_FILE:${program}>' ${program} ${PROJECT_VERSION} '${summary}' | gzip -9n > '${page}'"
    DEPENDS ${program} ${CMAKE_SOURCE_DIR}/scripts/help-to-man.sh
    COMMENT "Man page of ${program} from its --help" VERBATIM)
  list(APPEND snorky_man_pages ${page})
endforeach()
add_custom_target(snorky_man_pages ALL DEPENDS ${snorky_man_pages})
install(FILES ${snorky_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME snorky)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Snorky")
set(CPACK_PACKAGE_CONTACT "Snorky maintainers <snorky@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Real-time server: WebSocket PubSub, messaging, chat, cursors, DataSync")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL server dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)  # as Debian ships binaries; debug info stays in the build tree
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # the library packages the binaries link (dpkg-shlibdeps)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME snorky)
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
  ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
  ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
  ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_SERVER_DESCRIPTION "Real-time server: WebSocket PubSub, messaging, chat, cursors, DataSync
 Snorky serves browsers over WebSocket (ws:// or wss://) and your servers over
 an HTTP backend API. This package holds the snorky server, snorky-call, a
 systemd unit (snorky.service) and /etc/snorky/snorky.toml.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME snorky-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libssl-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION "Snorky backend connector for C++ (headers, static library, CMake package)
 find_package(SnorkyConnector) then link snorky::connector to call a Snorky
 server's backend services over http:// or https://.")
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_BINARY_DIR}/packages)
include(CPack)
