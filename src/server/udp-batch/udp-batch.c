/*
 * udp-batch: the optional native UDP path of clusterdns (see README.md).
 * One non-blocking UDP socket watched with uv_poll on Node's event loop. When
 * it is readable, recvmmsg() takes up to BATCH datagrams into the listener's
 * input slab, ONE call into JavaScript serves them all (it writes the replies
 * into the output slab), and one sendmmsg() sends the replies back to the
 * senders recorded by recvmmsg(). Node-API only (plus libuv's poll handle),
 * so one build loads into any Node.js >= 18 of the same platform.
 *
 * JS interface (all functions take the handle returned by open()):
 *   open(family 4|6, address, port, reusePort, inSlab, slot, inMeta, outSlab, outMeta, onBatch)
 *     -> [handle, boundPort], or a negative errno
 *     inMeta per datagram i (IN_META int32s): length, truncated, family, port, 4 words of address
 *     outMeta per reply k (3 int32s): offset in outSlab, length, index of the datagram answered
 *     onBatch(n) -> number of replies written
 *   setInput(handle, inSlab)            a fresh input slab (the last one is still referenced)
 *   sendIndexed(handle, buf, i) -> 0|-errno   to the sender of datagram i of the batch being served
 *   sendTo(handle, buf, port, address) -> 0|-errno
 *   pause(handle)                        stop reading (drain)
 *   close(handle)
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define IN_META 8
#define OUT_META 3
/* Batches per readiness event before yielding to the rest of the event loop. */
#define ROUNDS 16

typedef struct {
  int fd;
  int family;
  int closing;
  uv_poll_t poll;
  napi_env env;
  napi_ref on_batch;
  napi_ref in_ref;
  napi_ref in_meta_ref;
  napi_ref out_ref;
  napi_ref out_meta_ref;
  napi_async_context ctx;
  char *in;
  size_t in_len;
  int slot;
  int32_t *in_meta;
  char *out;
  size_t out_len;
  int32_t *out_meta;
  struct mmsghdr rmsg[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_in6 raddr[BATCH];
  struct mmsghdr smsg[BATCH];
  struct iovec siov[BATCH];
} endpoint;

static void *typed_data(napi_env env, napi_value v, size_t *bytes) {
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &offset) != napi_ok) return NULL;
  size_t size = type == napi_int32_array ? 4 : 1;
  if (bytes) *bytes = length * size;
  return data;
}

static int32_t int_arg(napi_env env, napi_value v) {
  int32_t x = 0;
  napi_get_value_int32(env, v, &x);
  return x;
}

static napi_value int_value(napi_env env, int32_t x) {
  napi_value v;
  napi_create_int32(env, x, &v);
  return v;
}

static endpoint *endpoint_of(napi_env env, napi_value handle) {
  void *p = NULL;
  napi_get_value_external(env, handle, &p);
  return (endpoint *)p;
}

static void point_input(endpoint *e) {
  int n = (int)(e->in_len / (size_t)e->slot);
  if (n > BATCH) n = BATCH;
  for (int i = 0; i < BATCH; i++) {
    e->riov[i].iov_base = e->in + (size_t)(i < n ? i : 0) * (size_t)e->slot;
    e->riov[i].iov_len = (size_t)e->slot;
    e->rmsg[i].msg_hdr.msg_iov = &e->riov[i];
    e->rmsg[i].msg_hdr.msg_iovlen = 1;
    e->rmsg[i].msg_hdr.msg_name = &e->raddr[i];
  }
}

/* Sender i as family, port and address words in inMeta (v4-mapped IPv6 reported as IPv4). */
static void describe_sender(endpoint *e, int i) {
  int32_t *m = e->in_meta + i * IN_META;
  struct sockaddr_in6 *a6 = &e->raddr[i];
  if (a6->sin6_family == AF_INET) {
    struct sockaddr_in *a4 = (struct sockaddr_in *)a6;
    m[2] = 4;
    m[3] = ntohs(a4->sin_port);
    memcpy(&m[4], &a4->sin_addr, 4);
  } else if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
    m[2] = 4;
    m[3] = ntohs(a6->sin6_port);
    memcpy(&m[4], &a6->sin6_addr.s6_addr[12], 4);
  } else {
    m[2] = 6;
    m[3] = ntohs(a6->sin6_port);
    memcpy(&m[4], &a6->sin6_addr, 16);
  }
}

static void send_all(endpoint *e, int m) {
  int done = 0;
  while (done < m) {
    int r = sendmmsg(e->fd, e->smsg + done, (unsigned)(m - done), MSG_DONTWAIT);
    if (r > 0) { done += r; continue; }
    if (r < 0 && errno == EINTR) continue;
    done++; /* this reply cannot go (EAGAIN, unreachable...): drop it, the client retries */
  }
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  endpoint *e = handle->data;
  napi_env env = e->env;
  (void)events;
  if (status < 0 || e->closing) return;
  int capacity = (int)(e->in_len / (size_t)e->slot);
  if (capacity > BATCH) capacity = BATCH;
  for (int round = 0; round < ROUNDS && !e->closing; round++) {
    for (int i = 0; i < capacity; i++) e->rmsg[i].msg_hdr.msg_namelen = sizeof e->raddr[i];
    int n = recvmmsg(e->fd, e->rmsg, (unsigned)capacity, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    for (int i = 0; i < n; i++) {
      e->in_meta[i * IN_META] = (int32_t)e->rmsg[i].msg_len;
      e->in_meta[i * IN_META + 1] = (e->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      describe_sender(e, i);
    }
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value fn, recv, result, arg = int_value(env, n);
    napi_get_reference_value(env, e->on_batch, &fn);
    napi_get_global(env, &recv);
    int32_t m = 0;
    if (napi_make_callback(env, e->ctx, recv, fn, 1, &arg, &result) == napi_ok) {
      napi_get_value_int32(env, result, &m);
    } else {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
    napi_close_handle_scope(env, scope);
    if (m > n) m = n;
    for (int k = 0; k < m; k++) {
      int32_t *o = e->out_meta + k * OUT_META;
      int idx = o[2];
      if (idx < 0 || idx >= n || o[0] < 0 || o[1] < 0 || (size_t)o[0] + (size_t)o[1] > e->out_len) { o[1] = 0; idx = 0; }
      e->siov[k].iov_base = e->out + o[0];
      e->siov[k].iov_len = (size_t)o[1];
      memset(&e->smsg[k].msg_hdr, 0, sizeof e->smsg[k].msg_hdr);
      e->smsg[k].msg_hdr.msg_iov = &e->siov[k];
      e->smsg[k].msg_hdr.msg_iovlen = 1;
      e->smsg[k].msg_hdr.msg_name = &e->raddr[idx];
      e->smsg[k].msg_hdr.msg_namelen = e->rmsg[idx].msg_hdr.msg_namelen;
    }
    if (m > 0) send_all(e, m);
    if (n < capacity) return;
  }
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value a[11];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 10) return int_value(env, -EINVAL);
  int family = int_arg(env, a[0]);
  char address[64];
  size_t alen = 0;
  if (napi_get_value_string_utf8(env, a[1], address, sizeof address, &alen) != napi_ok) return int_value(env, -EINVAL);
  int port = int_arg(env, a[2]);
  bool reuse = false;
  napi_get_value_bool(env, a[3], &reuse);

  endpoint *e = calloc(1, sizeof *e);
  if (e == NULL) return int_value(env, -ENOMEM);
  e->family = family;
  e->in = typed_data(env, a[4], &e->in_len);
  e->slot = int_arg(env, a[5]);
  e->in_meta = typed_data(env, a[6], NULL);
  e->out = typed_data(env, a[7], &e->out_len);
  e->out_meta = typed_data(env, a[8], NULL);
  if (e->in == NULL || e->in_meta == NULL || e->out == NULL || e->out_meta == NULL || e->slot <= 0 || e->in_len < (size_t)e->slot) {
    free(e);
    return int_value(env, -EINVAL);
  }

  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { int err = errno; free(e); return int_value(env, -err); }
  int one = 1, zero = 0, r;
  /* Optional 11th argument: the receive buffer to ask for (bursts wait there while the loop is busy); the kernel caps it at rmem_max. */
  if (argc >= 11) {
    int rcvbuf = int_arg(env, a[10]);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (reuse) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  if (family == 6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &s.sin6_addr) != 1) { close(fd); free(e); return int_value(env, -EINVAL); }
    r = bind(fd, (struct sockaddr *)&s, sizeof s);
  } else {
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    s.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &s.sin_addr) != 1) { close(fd); free(e); return int_value(env, -EINVAL); }
    r = bind(fd, (struct sockaddr *)&s, sizeof s);
  }
  if (r < 0) { int err = errno; close(fd); free(e); return int_value(env, -err); }
  struct sockaddr_in6 bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  int bound_port = ntohs(bound.sin6_port); /* same offset in sockaddr_in */

  e->fd = fd;
  e->env = env;
  napi_create_reference(env, a[9], 1, &e->on_batch);
  napi_create_reference(env, a[4], 1, &e->in_ref);
  napi_create_reference(env, a[6], 1, &e->in_meta_ref);
  napi_create_reference(env, a[7], 1, &e->out_ref);
  napi_create_reference(env, a[8], 1, &e->out_meta_ref);
  napi_value name;
  napi_create_string_utf8(env, "clusterdns:udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &e->ctx);
  point_input(e);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init_socket(loop, &e->poll, fd);
  e->poll.data = e;
  uv_poll_start(&e->poll, UV_READABLE, on_readable);

  napi_value out, handle;
  napi_create_array_with_length(env, 2, &out);
  napi_create_external(env, e, NULL, NULL, &handle);
  napi_set_element(env, out, 0, handle);
  napi_set_element(env, out, 1, int_value(env, bound_port));
  return out;
}

static napi_value SetInput(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  endpoint *e = endpoint_of(env, a[0]);
  size_t len = 0;
  char *in = typed_data(env, a[1], &len);
  if (e == NULL || in == NULL || len < (size_t)e->slot) return int_value(env, -EINVAL);
  napi_delete_reference(env, e->in_ref);
  napi_create_reference(env, a[1], 1, &e->in_ref);
  e->in = in;
  e->in_len = len;
  point_input(e);
  return int_value(env, 0);
}

static int send_one(endpoint *e, const void *buf, size_t len, const struct sockaddr *to, socklen_t tolen) {
  for (;;) {
    ssize_t r = sendto(e->fd, buf, len, MSG_DONTWAIT, to, tolen);
    if (r >= 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

static napi_value SendIndexed(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  endpoint *e = endpoint_of(env, a[0]);
  size_t len = 0;
  void *buf = typed_data(env, a[1], &len);
  int i = int_arg(env, a[2]);
  if (e == NULL || buf == NULL || i < 0 || i >= BATCH || e->closing) return int_value(env, -EINVAL);
  return int_value(env, send_one(e, buf, len, (struct sockaddr *)&e->raddr[i], e->rmsg[i].msg_hdr.msg_namelen));
}

static napi_value SendTo(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  endpoint *e = endpoint_of(env, a[0]);
  size_t len = 0;
  void *buf = typed_data(env, a[1], &len);
  int port = int_arg(env, a[2]);
  char address[64];
  size_t alen = 0;
  if (e == NULL || buf == NULL || e->closing) return int_value(env, -EINVAL);
  if (napi_get_value_string_utf8(env, a[3], address, sizeof address, &alen) != napi_ok) return int_value(env, -EINVAL);
  struct sockaddr_in6 to;
  memset(&to, 0, sizeof to);
  if (e->family == 6) {
    to.sin6_family = AF_INET6;
    to.sin6_port = htons((uint16_t)port);
    struct in_addr v4;
    if (strchr(address, ':') == NULL && inet_pton(AF_INET, address, &v4) == 1) {
      to.sin6_addr.s6_addr[10] = 0xff;
      to.sin6_addr.s6_addr[11] = 0xff;
      memcpy(&to.sin6_addr.s6_addr[12], &v4, 4);
    } else if (inet_pton(AF_INET6, address, &to.sin6_addr) != 1) {
      return int_value(env, -EINVAL);
    }
    return int_value(env, send_one(e, buf, len, (struct sockaddr *)&to, sizeof to));
  }
  struct sockaddr_in *t4 = (struct sockaddr_in *)&to;
  t4->sin_family = AF_INET;
  t4->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &t4->sin_addr) != 1) return int_value(env, -EINVAL);
  return int_value(env, send_one(e, buf, len, (struct sockaddr *)t4, sizeof *t4));
}

static napi_value Pause(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  endpoint *e = endpoint_of(env, a[0]);
  if (e != NULL && !e->closing) uv_poll_stop(&e->poll);
  return int_value(env, 0);
}

/* The socket's SO_RCVBUF as the kernel reports it (Linux: twice what it granted), or -errno. */
static napi_value RecvBufferSize(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  endpoint *e = endpoint_of(env, a[0]);
  if (e == NULL || e->closing) return int_value(env, -EBADF);
  int size = 0;
  socklen_t len = sizeof size;
  if (getsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &size, &len) < 0) return int_value(env, -errno);
  return int_value(env, size);
}

static void on_closed(uv_handle_t *handle) {
  endpoint *e = handle->data;
  napi_env env = e->env;
  close(e->fd);
  napi_delete_reference(env, e->on_batch);
  napi_delete_reference(env, e->in_ref);
  napi_delete_reference(env, e->in_meta_ref);
  napi_delete_reference(env, e->out_ref);
  napi_delete_reference(env, e->out_meta_ref);
  napi_async_destroy(env, e->ctx);
  free(e);
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  endpoint *e = endpoint_of(env, a[0]);
  if (e == NULL || e->closing) return int_value(env, 0);
  e->closing = 1;
  uv_poll_stop(&e->poll);
  uv_close((uv_handle_t *)&e->poll, on_closed);
  return int_value(env, 0);
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

NAPI_MODULE_INIT() {
  export_fn(env, exports, "open", Open);
  export_fn(env, exports, "setInput", SetInput);
  export_fn(env, exports, "sendIndexed", SendIndexed);
  export_fn(env, exports, "sendTo", SendTo);
  export_fn(env, exports, "pause", Pause);
  export_fn(env, exports, "close", Close);
  export_fn(env, exports, "recvBufferSize", RecvBufferSize);
  napi_value v;
  napi_create_int32(env, BATCH, &v);
  napi_set_named_property(env, exports, "BATCH", v);
  return exports;
}
