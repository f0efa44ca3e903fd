// Attachments (protocol §3.9): the SDK asks for a signed URL, uploads the bytes there
// without its API key, reports the upload status, and later reads through a signed URL.
#include "api/app.h"
#include "api/fields.h"
#include "json/json.h"

namespace arbor::api {

namespace bj = boost::json;

namespace {

std::string BlobKey(const std::string& org_id, const std::string& key) {
  return "attachments/" + org_id + "/" + key;
}

bool IsValidAttachmentKey(const std::string& key) {
  return !key.empty() && key.find('/') == std::string::npos && storage::IsValidObjectKey(key);
}

// The attachment key a request body names, checked to be one safe path segment.
StatusOr<std::string> AttachmentKey(const bj::object& body) {
  ASSIGN_OR_RETURN(std::string key, RequireString(body, "key"));
  if (!IsValidAttachmentKey(key)) return InvalidArgument("invalid attachment key");
  return key;
}

}  // namespace

void App::AddBlobRoutes() {
  router_.Add({"POST", "/attachment", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto key = AttachmentKey(*body);
                 if (!key.ok()) return Error(key.status());
                 auto ct = OptString(*body, "content_type");
                 auto filename = OptString(*body, "filename");
                 if (!ct.ok() || !filename.ok()) {
                   return Error(InvalidArgument("content_type and filename must be strings"));
                 }
                 bj::object meta;
                 meta["filename"] = filename->value_or("");
                 meta["content_type"] = ct->value_or("application/octet-stream");
                 meta["status"] = bj::object{{"upload_status", "uploading"}};
                 Status st = deps_.blobs.Put(BlobKey(c.principal.org_id, *key) + ".meta",
                                             json::Serialize(meta));
                 if (!st.ok()) return Error(st);
                 std::string path = "/attachment/blob/" + c.principal.org_id + "/" + *key;
                 bj::object out;
                 out["signedUrl"] = SignedUrl(c.request, path, "PUT");
                 out["headers"] = bj::object{{"Content-Type", meta["content_type"]}};
                 return Json(out);
               }});

  router_.Add({"PUT", "/attachment/blob/{}/{}", true, [this](const Call& c) -> Response {
                 if (Status st = CheckSignature(c.request, "PUT"); !st.ok()) return Error(st);
                 if (!IsValidAttachmentKey(c.params[1])) return Error(InvalidArgument("bad key"));
                 Status st = deps_.blobs.Put(BlobKey(c.params[0], c.params[1]), c.request.body);
                 return st.ok() ? Json(bj::object{}) : Error(st);
               }});

  router_.Add({"POST", "/attachment/status", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto key = AttachmentKey(*body);
                 if (!key.ok()) return Error(key.status());
                 auto status = OptObject(*body, "status");
                 if (!status.ok() || !status->has_value()) {
                   return Error(InvalidArgument("'status' must be an object"));
                 }
                 std::string meta_key = BlobKey(c.principal.org_id, *key) + ".meta";
                 auto text = deps_.blobs.Get(meta_key);
                 if (!text.ok()) return Error(NotFound("unknown attachment " + *key));
                 auto meta = json::Parse(*text);
                 if (!meta.ok() || !meta->is_object())
                   return Error(Internal("corrupt attachment metadata"));
                 meta->get_object()["status"] = **status;
                 Status st = deps_.blobs.Put(meta_key, json::Serialize(*meta));
                 return st.ok() ? Json(bj::object{}) : Error(st);
               }});

  router_.Add({"GET", "/attachment", false, [this](const Call& c) -> Response {
                 const std::string& key = c.request.Query("key");
                 if (!IsValidAttachmentKey(key))
                   return Error(InvalidArgument("invalid attachment key"));
                 auto text = deps_.blobs.Get(BlobKey(c.principal.org_id, key) + ".meta");
                 if (!text.ok()) return Error(NotFound("unknown attachment " + key));
                 auto meta = json::Parse(*text);
                 if (!meta.ok() || !meta->is_object())
                   return Error(Internal("corrupt attachment metadata"));
                 std::string path = "/attachment/blob/" + c.principal.org_id + "/" + key;
                 bj::object out;
                 out["downloadUrl"] = SignedUrl(c.request, path, "GET");
                 out["status"] = meta->get_object()["status"];
                 return Json(out);
               }});

  router_.Add({"GET", "/attachment/blob/{}/{}", true, [this](const Call& c) -> Response {
                 if (Status st = CheckSignature(c.request, "GET"); !st.ok()) return Error(st);
                 if (!IsValidAttachmentKey(c.params[1])) return Error(InvalidArgument("bad key"));
                 std::string key = BlobKey(c.params[0], c.params[1]);
                 auto data = deps_.blobs.Get(key);
                 if (!data.ok()) return Error(data.status());
                 Response r;
                 r.body = std::move(*data);
                 r.content_type = "application/octet-stream";
                 if (auto meta_text = deps_.blobs.Get(key + ".meta"); meta_text.ok()) {
                   auto meta = json::Parse(*meta_text);
                   if (meta.ok() && meta->is_object()) {
                     if (auto* ct = meta->get_object().if_contains("content_type");
                         ct && ct->is_string()) {
                       r.content_type = std::string(ct->get_string());
                     }
                   }
                 }
                 return r;
               }});
}

}  // namespace arbor::api
