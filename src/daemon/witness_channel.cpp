// The witness channel (witness_channel.h).
#include "daemon/witness_channel.h"

#include <asio/read.hpp>
#include <asio/write.hpp>

namespace vigil::daemon {

using asio::ip::tcp;

WitnessChannel::WitnessChannel(tcp::socket socket, const tcp::endpoint& peer)
    : socket_(std::move(socket)),
      peer_(peer.address().is_v6() ? "[" + peer.address().to_string() + "]:" + std::to_string(peer.port())
                                   : peer.address().to_string() + ":" + std::to_string(peer.port())),
      idle_(socket_.get_executor()) {}

void WitnessChannel::start(OnFrame frame, OnClose closed) {
  on_frame_ = std::move(frame);
  on_close_ = std::move(closed);
  read_head();
}

void WitnessChannel::expect_within(std::chrono::milliseconds idle) {
  idle_limit_ = idle;
  idle_.expires_after(idle);
  idle_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->fail("nothing heard for " + std::to_string(self->idle_limit_.count()) + " ms");
  });
}

void WitnessChannel::read_head() {
  in_.resize(config::kJoinHead);
  asio::async_read(
      socket_, asio::buffer(in_),
      [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
        if (ec) return self->fail(ec == asio::error::eof ? "closed by the peer" : ec.message());
        self->read_body();
      });
}

void WitnessChannel::read_body() {
  auto body = witness_body(in_);
  if (!body) return fail(body.error().message);
  in_.resize(config::kJoinHead + *body);
  asio::async_read(socket_, asio::buffer(in_.data() + config::kJoinHead, *body),
                   [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                     if (ec) return self->fail(ec.message());
                     if (!self->on_frame_) return;
                     if (self->idle_limit_.count() > 0) self->expect_within(self->idle_limit_);
                     const auto on_frame = self->on_frame_;  // the callback may close()
                     on_frame(self->in_);
                     if (self->on_frame_) self->read_head();
                   });
}

void WitnessChannel::send(config::Bytes frame) {
  if (!socket_.is_open()) return;
  out_.push_back(std::move(frame));
  if (out_.size() == 1) write_next();
}

void WitnessChannel::write_next() {
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                      if (ec) return self->fail(ec.message());
                      if (self->out_.empty()) return;  // closed meanwhile
                      self->out_.pop_front();
                      if (!self->out_.empty()) self->write_next();
                    });
}

void WitnessChannel::close() {
  on_frame_ = nullptr;
  on_close_ = nullptr;
  asio::error_code ec;
  idle_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  out_.clear();
}

void WitnessChannel::fail(const std::string& why) {
  auto closed = std::move(on_close_);
  close();
  if (closed) closed(why);
}

}  // namespace vigil::daemon
