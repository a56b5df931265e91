# Where `cmake --install` and the Debian package put vigil. Paths follow Debian's layout with the
# prefix /usr (scripts/package.sh); OCF agents go where every resource-agents package puts them,
# /usr/lib/ocf/resource.d/<provider>, whatever the multiarch libdir.
include(GNUInstallDirs)

install(TARGETS vigil vigild RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
# ocf:vigil:webserver finds it on the PATH, as agents find the programs they manage.
install(TARGETS vigil-webserver RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS agents/ocf/vigil/vip agents/ocf/vigil/webserver
        DESTINATION lib/ocf/resource.d/vigil)

# The system files are absolute: /etc and /lib stay where Debian expects them under any prefix.
install(FILES packaging/vigil.service DESTINATION /lib/systemd/system)
install(FILES packaging/vigil.default DESTINATION /etc/default RENAME vigil)
install(DIRECTORY DESTINATION /etc/vigil)

set(vigil_doc ${CMAKE_INSTALL_DATADIR}/doc/vigil)
install(FILES packaging/copyright DESTINATION ${vigil_doc})
# Debian wants the changelog compressed, without a timestamp (reproducible); a native package's
# is changelog.gz.
set(vigil_changelog ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
add_custom_command(
  OUTPUT ${vigil_changelog}
  COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/changelog > ${vigil_changelog}
  DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog VERBATIM)
add_custom_target(vigil_changelog ALL DEPENDS ${vigil_changelog})
install(FILES ${vigil_changelog} DESTINATION ${vigil_doc})

# Manual pages from each program's --help (help2man), so `man vigil` says what --help says.
find_program(VIGIL_HELP2MAN help2man)
if(VIGIL_HELP2MAN)
  set(vigil_pages)
  foreach(page "vigil|8|command-line interface to a vigil cluster (crmsh's and crm_mon's words)"
               "vigild|8|the vigil cluster daemon"
               "vigil-webserver|1|a tiny HTTP server for ocf:vigil:webserver")
    string(REPLACE "|" ";" page "${page}")
    list(GET page 0 program)
    list(GET page 1 section)
    list(GET page 2 summary)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/man/${program}.${section}.gz)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/man
      COMMAND sh -c "\"$0\" --no-info --section=$1 --name=\"$2\" \"$3\" | gzip -9n > \"$4\""
              ${VIGIL_HELP2MAN} ${section} ${summary} $<TARGET_FILE:${program}> ${out}
      DEPENDS ${program} VERBATIM)
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    list(APPEND vigil_pages ${out})
  endforeach()
  add_custom_target(vigil_man ALL DEPENDS ${vigil_pages})
endif()

# ---- the Debian package (CPack's DEB generator: the reason is in the README)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(VIGIL_MAINTAINER "vigil developers <vigil@example.org>" CACHE STRING
    "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${VIGIL_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "high-availability cluster stack (Corosync and Pacemaker compatible)")
set(CPACK_PACKAGE_DESCRIPTION
    "vigil keeps services (a virtual IP, a web server, a database) running on
exactly one healthy node of a small cluster and moves them within seconds
when a node or a service fails. It reads corosync.conf, CIB XML and crmsh's
command grammar, and runs OCF, LSB and systemd resource agents and fence
agents.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The agents vigil runs in the guide (IPaddr2, apache) and its fence agents.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "resource-agents, fence-agents")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/conffiles ${PROJECT_SOURCE_DIR}/packaging/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
