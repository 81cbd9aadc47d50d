// Conversions between SQLite rows and clawdie.v1 messages, input validation
// shared by the store's methods, and time conversion (microseconds since the
// epoch in the database, google.protobuf.Timestamp on the wire).
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_STORE_ROWS_H_
#define CLAWDIE_SERVICES_STORE_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "clawdie/v1/types.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/store/database.h"

namespace clawdie::store {

int64_t NowMicros();
int64_t ToMicros(const google::protobuf::Timestamp& t);
int64_t ToMicros(const google::protobuf::Duration& d);
// Sets `out` from microseconds; 0 leaves it unset.
void SetTime(int64_t micros, google::protobuf::Timestamp* out);

// Column lists that the matching Read* functions expect, in order.
extern const char kMessageColumns[];
extern const char kChatColumns[];
extern const char kGroupColumns[];
extern const char kRunColumns[];
extern const char kTaskColumns[];
extern const char kOutboxColumns[];

clawdie::v1::Message ReadMessage(const Statement& row);
clawdie::v1::Chat ReadChat(const Statement& row);
clawdie::v1::Group ReadGroup(const Statement& row);
clawdie::v1::Run ReadRun(const Statement& row);
clawdie::v1::Task ReadTask(const Statement& row);
clawdie::v1::OutboxEntry ReadOutbox(const Statement& row);

// Validation: each returns InvalidArgument "<field>: <what is wrong>" or OK.
absl::Status ValidateChatJid(const std::string& field, const std::string& jid);
absl::Status ValidateFolder(const std::string& field, const std::string& folder);
absl::Status ValidateNotEmpty(const std::string& field, const std::string& value);
absl::Status ValidateText(const std::string& field, const std::string& text, int64_t max_bytes);
// `value` must be a defined, non-UNSPECIFIED enum number (unless allow_unspecified).
absl::Status ValidateEnum(const std::string& field, bool defined, int value,
                          bool allow_unspecified);

// The channel a chat key's prefix names.
clawdie::v1::Channel ChannelOf(const std::string& jid);

}  // namespace clawdie::store

#endif  // CLAWDIE_SERVICES_STORE_ROWS_H_
