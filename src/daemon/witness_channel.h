// witness_channel: one TCP connection between a node (vigild's device service) and `vigil
// witness`, carrying quorum/witness.h's messages in config/join.h's frames (a head with the body's
// length, then the sealed body), sealed with the cluster's witness keys. Frames are read one after
// another and written in order; a head that is not a sealed frame or announces a body larger than
// any witness message closes the connection, so a peer holds at most kMaxWitnessBody bytes here.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "daemon/witness_frame.h"

namespace vigil::daemon {

class WitnessChannel : public std::enable_shared_from_this<WitnessChannel> {
 public:
  using OnFrame = std::function<void(const config::Bytes& frame)>;  // head and body
  using OnClose = std::function<void(const std::string& why)>;

  // `peer` is the other end as accept or connect reported it: the socket forgets it once the
  // peer resets the connection, and the logs still name it then.
  WitnessChannel(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& peer);
  WitnessChannel(const WitnessChannel&) = delete;
  WitnessChannel& operator=(const WitnessChannel&) = delete;

  // Reads until the connection ends; `closed` is called once, unless close() ended it.
  void start(OnFrame frame, OnClose closed);
  void send(config::Bytes frame);
  // Ends the connection without calling `closed`.
  void close();
  // Ends it when nothing arrives for `idle` (re-armed by each frame).
  void expect_within(std::chrono::milliseconds idle);
  const std::string& peer() const { return peer_; }

 private:
  void read_head();
  void read_body();
  void write_next();
  void fail(const std::string& why);

  asio::ip::tcp::socket socket_;
  std::string peer_;  // "ADDRESS:PORT", "[IPv6]:PORT"
  asio::steady_timer idle_;
  std::chrono::milliseconds idle_limit_{0};
  OnFrame on_frame_;
  OnClose on_close_;
  config::Bytes in_;
  std::deque<config::Bytes> out_;
};

}  // namespace vigil::daemon
