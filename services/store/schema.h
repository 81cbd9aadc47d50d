// The store's schema as numbered migrations, applied in order inside one
// transaction each and recorded in `schema_version`.
//
// Thread-safety: call once at start-up, before the store serves.
#ifndef CLAWDIE_SERVICES_STORE_SCHEMA_H_
#define CLAWDIE_SERVICES_STORE_SCHEMA_H_

#include "absl/status/statusor.h"
#include "services/store/database.h"

namespace clawdie::store {

// Applies every migration newer than the database's version. Returns the resulting
// version. FailedPrecondition when the database is newer than this binary.
absl::StatusOr<int> Migrate(Database& db);

// The newest migration this binary knows.
int LatestSchemaVersion();

}  // namespace clawdie::store

#endif  // CLAWDIE_SERVICES_STORE_SCHEMA_H_
