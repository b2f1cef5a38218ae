/* SPDX-License-Identifier: Apache-2.0 */
/*
 * h_hash.c - POST /v1/hash: image bytes in, PDQ hash and digests out.
 *
 * The body is the image itself (any content type but JSON, form or text)
 * or the first file part of a multipart/form-data upload; the core has
 * already enforced the size limit.  The format comes from the bytes.
 * Optional query: mode=fullres|cli, dihedral=true.
 */
#include "server/req.h"
#include "server/handlers.h"
#include "server/jobs.h"
#include "server/gate.h"
#include "server/vhash.h"
#include "common/hex.h"

#include <openssl/evp.h>
#include <string.h>

#include "vigil/media.h"

static int digest_hex(const EVP_MD *md, const uint8_t *data, size_t len, char *out) {
  uint8_t d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!EVP_Digest(data, len, d, &n, md, NULL)) return 0;
  vigil__hex_encode(d, n, out);
  return 1;
}

/* A video (spooled, server.c): its frame hashes, one a second as exchanged
 * lists are, and the file's video_md5 and SHA-256. */
static int hash_video(vigil__req *r) {
  vigil_video_frame *f = NULL;
  size_t n = 0;
  vigil_video_info info;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil__video_hash(r, r->conn == NULL, &f, &n, &info, &e);
  if (rc) {
    vigil__reply_video_error(r, rc, &e);
    return VIGIL_OK;
  }
  json_t *o = json_pack("{s:s, s:s, s:s, s:o*, s:I, s:o*}", "type", "video", "video_md5", r->spool.md5_hex, "sha256",
                        r->spool.sha_hex, "video", vigil__video_info_json(&info), "nframes", (json_int_t)n, "frames",
                        vigil__video_frames_json(f, n));
  vigil_video_frames_free(f);
  if (!o || !json_object_get(o, "frames") || !json_object_get(o, "video"))
    return json_decref(o), vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, o);
}

int vigil__h_hash(vigil__req *r) {
  int async = vigil__jobs_async(r); /* ?async=true: answered 202, done by a job (jobs.c) */
  if (async) return async > 0 ? vigil__jobs_submit(r, "hash") : VIGIL_OK;
  if (r->spool.fd >= 0) return hash_video(r);
  vigil_hash_opts opts;
  vigil_hash_opts_default(&opts);
  const char *mode = vigil__req_query(r, "mode");
  if (mode && !strcmp(mode, "cli")) opts.mode = VIGIL_MODE_CLI;
  else if (mode && strcmp(mode, "fullres") != 0)
    return vigil__reply_error(r, 400, "invalid", "mode: expected fullres or cli");
  if (!vigil__query_bool(r, "dihedral", &opts.dihedral)) return VIGIL_OK;
  if (r->body_len == 0) return vigil__reply_error(r, 400, "empty_body", "no image bytes in the request body");

  vigil_pdq_result res;
  vigil_image_info info;
  vigil_error e;
  vigil_error_clear(&e);
  int rc = vigil__hash_upload(r, &opts, &res, &info, &e);
  if (rc) {
    vigil__reply_hash_error(r, rc, &e);
    return VIGIL_OK;
  }
  char pdq[VIGIL_PDQ_HEX_LEN + 1], md5[33], sha[65];
  vigil_pdq_to_hex(&res.hash[0], pdq);
  if (!digest_hex(EVP_md5(), r->body, r->body_len, md5) || !digest_hex(EVP_sha256(), r->body, r->body_len, sha))
    return vigil__seterr(&r->err, VIGIL_EINTERNAL, "digest failed");
  json_t *o = json_pack("{s:s, s:i, s:s, s:s, s:i, s:i, s:s}", "pdq", pdq, "quality", res.quality, "md5", md5,
                        "sha256", sha, "width", info.width, "height", info.height, "format",
                        vigil_image_format_name(info.format));
  if (o && opts.dihedral) {
    json_t *d = json_object();
    for (int v = 1; d && v < VIGIL_DIH_COUNT; v++) {
      vigil_pdq_to_hex(&res.hash[v], pdq);
      json_object_set_new(d, vigil_dihedral_name(v), json_string(pdq));
    }
    if (!d || json_object_set_new(o, "dihedral", d) != 0) {
      json_decref(o);
      o = NULL;
    }
  }
  if (o && info.damaged) {
    json_object_set_new(o, "damaged", json_true());
    json_object_set_new(o, "rows_decoded", json_integer(info.rows_decoded));
  }
  if (!o) return vigil__seterr(&r->err, VIGIL_ENOMEM, "out of memory");
  return vigil__reply_json(r, 200, o);
}
