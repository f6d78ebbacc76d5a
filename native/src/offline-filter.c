/*
 * compileFilter / filterBatch: tcpdump-syntax filters applied in user space to packets already in memory
 * (capture files, replays). pcap_offline_filter runs the same BPF interpreter `tcpdump -r FILE EXPR`
 * runs, so what `loopy read -f EXPR` keeps is exactly what tcpdump keeps. One call per batch, not per packet.
 */
#define _GNU_SOURCE
#include "offline-filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "napi-util.h"

#define MAX_SNAPLEN 262144u

static const napi_type_tag program_tag = {0x6c6f6f7079627066ULL, 0x50524f4752414d31ULL};

typedef struct filter_program {
  struct bpf_program prog;
} filter_program;

static void free_program(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  filter_program *fp = data;
  pcap_freecode(&fp->prog);
  free(fp);
}

/*
 * A pcap_t that libpcap believes is reading a capture file of this link type and byte order. Filters are
 * compiled against it rather than pcap_open_dead because libpcap generates different code for files:
 * on DLT_NULL it checks all three BSD AF_INET6 values, in the file's byte order, as `tcpdump -r` does.
 * The link type goes in as the file's LINKTYPE_* value, so libpcap maps it to a DLT exactly as for a file.
 */
static void put32(uint8_t *at, uint32_t v, bool big_endian) {
  for (int i = 0; i < 4; i++) at[big_endian ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

/* `header` is the 24-byte file header's storage; it must outlive the returned pcap_t. */
static pcap_t *open_fake_savefile(uint8_t header[24], uint32_t linktype, uint32_t snaplen, bool big_endian,
                                  char *errbuf) {
  put32(header, 0xa1b2c3d4u, big_endian); /* magic: microsecond pcap */
  header[big_endian ? 5 : 4] = 2;         /* version 2.4 */
  header[big_endian ? 4 : 5] = 0;
  header[big_endian ? 7 : 6] = 4;
  header[big_endian ? 6 : 7] = 0;
  put32(header + 8, 0, big_endian);  /* thiszone */
  put32(header + 12, 0, big_endian); /* sigfigs */
  put32(header + 16, snaplen, big_endian);
  put32(header + 20, linktype, big_endian);
  FILE *fp = fmemopen(header, 24, "rb");
  if (!fp) {
    snprintf(errbuf, PCAP_ERRBUF_SIZE, "fmemopen failed");
    return NULL;
  }
  pcap_t *p = pcap_fopen_offline(fp, errbuf);
  if (!p) fclose(fp);
  return p; /* pcap_close closes fp */
}

/* compileFilter(expression, linkType, snaplen, bigEndian?) -> { expression, linkType, snaplen } wrapping
 * the program. bigEndian: byte order of the file the frames come from (default: this machine's). */
napi_value loopy_compile_filter(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, LOOPY_E_ARG, "compileFilter(expression, linkType, snaplen, bigEndian?)");
    return NULL;
  }
  uint32_t linktype = 0, snaplen = 0;
  if (!loopy_arg_u32(env, argv[1], "linkType", &linktype) || !loopy_arg_u32(env, argv[2], "snaplen", &snaplen)) {
    return NULL;
  }
  bool big_endian = __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__; /* this machine's order by default */
  napi_valuetype t3 = napi_undefined;
  if (argc > 3) NAPI_CALL(env, napi_typeof(env, argv[3], &t3));
  if (t3 == napi_boolean) NAPI_CALL(env, napi_get_value_bool(env, argv[3], &big_endian));
  /* libpcap fixes bogus file snaplens the same way; a 0 snaplen would make every match return 0 bytes. */
  if (snaplen == 0 || snaplen > MAX_SNAPLEN) snaplen = MAX_SNAPLEN;
  char *expr = loopy_get_string(env, argv[0], "expression");
  if (!expr) return NULL;

  char errbuf[PCAP_ERRBUF_SIZE] = "";
  uint8_t header[24];
  pcap_t *fake = open_fake_savefile(header, linktype, snaplen, big_endian, errbuf);
  filter_program *fp = calloc(1, sizeof *fp);
  if (!fake || !fp) {
    char msg[PCAP_ERRBUF_SIZE + 64];
    snprintf(msg, sizeof msg, "cannot prepare a filter for link type %u: %s", linktype, fake ? "out of memory" : errbuf);
    if (fake) pcap_close(fake);
    free(fp);
    free(expr);
    napi_throw_error(env, LOOPY_E_INTERNAL, msg);
    return NULL;
  }
  /* Netmask 0, as tcpdump uses when reading a file (it matters only to "ip broadcast"). */
  if (pcap_compile(fake, &fp->prog, expr, 1, 0) != 0) {
    char msg[PCAP_ERRBUF_SIZE + 256];
    snprintf(msg, sizeof msg, "bad filter \"%.150s\": %s", expr, pcap_geterr(fake));
    pcap_close(fake);
    free(fp);
    free(expr);
    napi_throw_error(env, LOOPY_E_FILTER, msg);
    return NULL;
  }
  pcap_close(fake);

  napi_value obj, text;
  napi_status s = napi_create_object(env, &obj);
  if (s == napi_ok) s = napi_create_string_utf8(env, expr, NAPI_AUTO_LENGTH, &text);
  free(expr);
  if (s == napi_ok) s = napi_set_named_property(env, obj, "expression", text);
  if (s == napi_ok) s = napi_type_tag_object(env, obj, &program_tag);
  if (s == napi_ok) s = napi_wrap(env, obj, fp, free_program, NULL, NULL);
  if (s != napi_ok) {
    free_program(env, fp, NULL);
    loopy_throw_napi_failure(env, "wrapping the filter program");
    return NULL;
  }
  if (!loopy_set_u32(env, obj, "linkType", linktype) || !loopy_set_u32(env, obj, "snaplen", snaplen)) return NULL;
  return obj;
}

static bool get_u8_view(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  bool is_ta = false;
  NAPI_CALL_BOOL(env, napi_is_typedarray(env, v, &is_ta));
  napi_typedarray_type type = napi_int8_array;
  if (is_ta) {
    napi_value ab;
    size_t off;
    NAPI_CALL_BOOL(env, napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off));
  }
  if (!is_ta || type != napi_uint8_array) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a Buffer or Uint8Array", name);
    napi_throw_type_error(env, LOOPY_E_ARG, msg);
    return false;
  }
  return true;
}

/*
 * filterBatch(program, buffer, meta, count, stride, offsetIndex, caplenIndex, wirelenIndex,
 *             out?, ifaceIndex?, ifaceMask?) -> Uint8Array
 * out[i] = 1 when packet i matches, else 0. With ifaceIndex/ifaceMask, only packets whose
 * meta[i * stride + ifaceIndex] has a non-zero ifaceMask entry are evaluated; the others keep their `out`
 * value, so a batch mixing link types is filtered by one call per link type into one `out`.
 */
napi_value loopy_filter_batch(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) {
    napi_throw_type_error(env, LOOPY_E_ARG,
                          "filterBatch(program, buffer, meta, count, stride, offsetIndex, caplenIndex, wirelenIndex)");
    return NULL;
  }
  bool tagged = false;
  napi_valuetype t0;
  NAPI_CALL(env, napi_typeof(env, argv[0], &t0));
  if (t0 == napi_object) NAPI_CALL(env, napi_check_object_type_tag(env, argv[0], &program_tag, &tagged));
  if (!tagged) {
    napi_throw_type_error(env, LOOPY_E_ARG, "program must come from compileFilter()");
    return NULL;
  }
  filter_program *fp;
  NAPI_CALL(env, napi_unwrap(env, argv[0], (void **)&fp));

  uint8_t *buf;
  size_t buf_len;
  if (!get_u8_view(env, argv[1], "buffer", &buf, &buf_len)) return NULL;
  napi_typedarray_type mtype = napi_int8_array;
  bool meta_ta = false;
  uint32_t *meta = NULL;
  size_t meta_len = 0;
  NAPI_CALL(env, napi_is_typedarray(env, argv[2], &meta_ta));
  if (meta_ta) {
    napi_value ab;
    size_t off;
    NAPI_CALL(env, napi_get_typedarray_info(env, argv[2], &mtype, &meta_len, (void **)&meta, &ab, &off));
  }
  if (!meta_ta || mtype != napi_uint32_array) {
    napi_throw_type_error(env, LOOPY_E_ARG, "meta must be a Uint32Array");
    return NULL;
  }
  uint32_t count, stride, off_i, cap_i, len_i;
  if (!loopy_arg_u32(env, argv[3], "count", &count) || !loopy_arg_u32(env, argv[4], "stride", &stride) ||
      !loopy_arg_u32(env, argv[5], "offsetIndex", &off_i) || !loopy_arg_u32(env, argv[6], "caplenIndex", &cap_i) ||
      !loopy_arg_u32(env, argv[7], "wirelenIndex", &len_i)) {
    return NULL;
  }
  if (stride == 0 || off_i >= stride || cap_i >= stride || len_i >= stride || (uint64_t)count * stride > meta_len) {
    napi_throw_range_error(env, LOOPY_E_ARG, "filterBatch: count, stride and indices do not fit the meta array");
    return NULL;
  }

  napi_value out_value = NULL;
  uint8_t *out = NULL;
  size_t out_len = 0;
  napi_valuetype t8 = napi_undefined;
  if (argc > 8) NAPI_CALL(env, napi_typeof(env, argv[8], &t8));
  if (t8 != napi_undefined && t8 != napi_null) {
    if (!get_u8_view(env, argv[8], "out", &out, &out_len)) return NULL;
    if (out_len < count) {
      napi_throw_range_error(env, LOOPY_E_ARG, "filterBatch: out is shorter than count");
      return NULL;
    }
    out_value = argv[8];
  } else {
    napi_value ab;
    void *mem;
    NAPI_CALL(env, napi_create_arraybuffer(env, count, &mem, &ab));
    memset(mem, 0, count);
    NAPI_CALL(env, napi_create_typedarray(env, napi_uint8_array, count, ab, 0, &out_value));
    out = mem;
  }

  uint32_t if_i = UINT32_MAX;
  uint8_t *mask = NULL;
  size_t mask_len = 0;
  napi_valuetype t9 = napi_undefined;
  if (argc > 9) NAPI_CALL(env, napi_typeof(env, argv[9], &t9));
  if (t9 != napi_undefined && t9 != napi_null) {
    if (!loopy_arg_u32(env, argv[9], "ifaceIndex", &if_i) || !get_u8_view(env, argv[10], "ifaceMask", &mask, &mask_len)) {
      return NULL;
    }
    if (if_i >= stride) {
      napi_throw_range_error(env, LOOPY_E_ARG, "filterBatch: ifaceIndex is not below stride");
      return NULL;
    }
  }

  struct pcap_pkthdr hdr;
  memset(&hdr, 0, sizeof hdr);
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t *w = meta + (size_t)i * stride;
    if (mask) {
      uint32_t iface = w[if_i];
      if (iface >= mask_len || !mask[iface]) continue;
    }
    uint64_t start = w[off_i], caplen = w[cap_i];
    if (start + caplen > buf_len) { /* never read outside the buffer */
      out[i] = 0;
      continue;
    }
    hdr.caplen = (bpf_u_int32)caplen;
    hdr.len = w[len_i];
    out[i] = pcap_offline_filter(&fp->prog, &hdr, buf + start) != 0;
  }
  return out_value;
}
