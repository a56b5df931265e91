// bundles: a <bundle> runs `replicas` containers (docker, podman or rkt), each with an optional IP
// address and, when it holds a primitive, a Pacemaker Remote connection that makes the container
// a guest node where that primitive's instance runs. As Pacemaker does, the scheduler reads a
// bundle as the implicit primitives and clone it stands for; their ids, parameters and
// operations are Pacemaker's, so that recorded operation digests match.
#pragma once

#include <pugixml.hpp>

#include <string>
#include <vector>

namespace vigil::scheduler {

// The implicit resources of one bundle, appended to a document the caller keeps.
struct BundleParts {
  std::string image;
  int replicas = 0, replicas_per_host = 1, promoted_max = 0;
  std::vector<pugi::xml_node> containers;   // one per replica
  std::vector<pugi::xml_node> ips;          // per replica, empty nodes without ip-range-start
  std::vector<pugi::xml_node> connections;  // per replica, empty nodes without a primitive
  pugi::xml_node clone;                     // the bundled primitive's clone, or empty
};

// The parts of `bundle` (a <bundle> element) appended to `into`; replicas = 0 when the bundle
// names no container technology Pacemaker knows.
BundleParts expand_bundle(pugi::xml_document& into, pugi::xml_node bundle);

// The guest nodes a bundle makes (NAME-0 ... NAME-(replicas-1)), none without a primitive.
std::vector<std::string> bundle_node_names(pugi::xml_node bundle);

}  // namespace vigil::scheduler
