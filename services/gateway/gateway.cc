// Channel assembly and routing; see gateway.h.
#include "services/gateway/gateway.h"

#include <cctype>

#include "absl/cleanup/cleanup.h"
#include "common/logging.h"

namespace clawdie::gateway {
namespace {

bool HasPrefix(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

absl::Status Require(const Config& config, const char* key, const char* because) {
  if (!config.GetString(key, "").empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(std::string("config ") + key + ": required " + because);
}

// Telegram's setWebhook takes a secret_token of 1-256 characters A-Z, a-z, 0-9, _ and -;
// anything else would only fail at start with a less helpful answer from Telegram.
absl::Status CheckWebhookSecret(const std::string& secret) {
  bool valid = !secret.empty() && secret.size() <= 256;
  for (char c : secret) {
    valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  }
  if (valid) return absl::OkStatus();
  // The value is a secret: say what is wrong, never what it is.
  return absl::InvalidArgumentError(
      "config TELEGRAM_WEBHOOK_SECRET: must be 1-256 of A-Z, a-z, 0-9, _ and -");
}

absl::Status ReadTelegram(const Config& config, const std::string& data_dir, GatewayOptions* o) {
  o->telegram.token = config.GetString("TELEGRAM_BOT_TOKEN", "");
  o->telegram_enabled = !o->telegram.token.empty();
  o->telegram.api_base = config.GetString("TELEGRAM_API_BASE", kDefaultTelegramApiBase);
  o->telegram.state_path = data_dir.empty() ? "" : data_dir + "/gateway-telegram.state";
  std::string mode = config.GetString("TELEGRAM_MODE", "poll");
  if (mode != "poll" && mode != "webhook") {
    return absl::InvalidArgumentError("config TELEGRAM_MODE: " + mode + " is not poll or webhook");
  }
  o->telegram.webhook = mode == "webhook";
  o->telegram.webhook_url = config.GetString("TELEGRAM_WEBHOOK_URL", "");
  o->telegram.webhook_secret = config.GetString("TELEGRAM_WEBHOOK_SECRET", "");
  if (!o->telegram_enabled || !o->telegram.webhook) return absl::OkStatus();
  for (const char* key :
       {"TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "CLAWDIE_WEBHOOK_LISTEN"}) {
    absl::Status s = Require(config, key, "in TELEGRAM_MODE=webhook");
    if (!s.ok()) return s;
  }
  return CheckWebhookSecret(o->telegram.webhook_secret);
}

absl::Status ReadWhatsApp(const Config& config, GatewayOptions* o) {
  o->whatsapp_access_token = config.GetString("WHATSAPP_ACCESS_TOKEN", "");
  o->whatsapp_enabled = !o->whatsapp_access_token.empty();
  o->whatsapp_api_base = config.GetString("WHATSAPP_API_BASE", kDefaultWhatsAppApiBase);
  o->whatsapp_phone_number_id = config.GetString("WHATSAPP_PHONE_NUMBER_ID", "");
  o->whatsapp_app_secret = config.GetString("WHATSAPP_APP_SECRET", "");
  o->whatsapp_verify_token = config.GetString("WHATSAPP_VERIFY_TOKEN", "");
  if (!o->whatsapp_enabled) return absl::OkStatus();
  for (const char* key : {"WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET",
                          "WHATSAPP_VERIFY_TOKEN", "CLAWDIE_WEBHOOK_LISTEN"}) {
    absl::Status s = Require(config, key, "when WHATSAPP_ACCESS_TOKEN is set");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

bool SplitHostPort(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  char* end = nullptr;
  long value = std::strtol(listen.c_str() + colon + 1, &end, 10);
  *port = static_cast<int>(value);
  return end != nullptr && *end == '\0' && value >= 0 && value <= 65535;
}

}  // namespace

absl::StatusOr<GatewayOptions> GatewayOptionsFromConfig(const Config& config,
                                                        const std::string& data_dir) {
  GatewayOptions options;
  absl::Status s = ReadTelegram(config, data_dir, &options);
  if (s.ok()) s = ReadWhatsApp(config, &options);
  if (!s.ok()) return s;
  options.webhook_listen = config.GetString("CLAWDIE_WEBHOOK_LISTEN", "");
  options.chunk_ledger_path = data_dir.empty() ? "" : data_dir + "/gateway-outbox.ledger";
  return options;
}

Gateway::Gateway(GatewayOptions options, Ingester* ingester, Clock* clock)
    : options_(std::move(options)), ingester_(ingester), clock_(clock), local_(ingester, clock) {}

Gateway::~Gateway() { Stop(); }

absl::Status Gateway::Start() {
  auto log = GetLogger("gateway");
  absl::StatusOr<std::unique_ptr<ChunkLedger>> ledger =
      ChunkLedger::Open(options_.chunk_ledger_path);
  if (!ledger.ok()) return ledger.status();
  ledger_ = std::move(*ledger);
  if (options_.telegram_enabled) {
    telegram_ = std::make_unique<TelegramChannel>(options_.telegram, ingester_, clock_);
    absl::Status s = telegram_->Start();
    if (!s.ok()) return s;
  }
  if (options_.whatsapp_enabled) {
    whatsapp_health_.SetIdentity(options_.whatsapp_phone_number_id);
    whatsapp_client_ = std::make_unique<WhatsAppClient>(options_.whatsapp_api_base,
                                                        options_.whatsapp_phone_number_id,
                                                        options_.whatsapp_access_token);
    whatsapp_sender_ = std::make_unique<WhatsAppSender>(whatsapp_client_.get(), clock_, &stop_);
    whatsapp_webhook_ = std::make_unique<WhatsAppWebhook>(options_.whatsapp_app_secret,
                                                          options_.whatsapp_verify_token, ingester_,
                                                          &whatsapp_deliveries_, &whatsapp_health_);
  }
  if (options_.webhook_listen.empty()) return absl::OkStatus();

  std::string host;
  int port = 0;
  if (!SplitHostPort(options_.webhook_listen, &host, &port)) {
    return absl::InvalidArgumentError("config CLAWDIE_WEBHOOK_LISTEN: " + options_.webhook_listen +
                                      " is not host:port");
  }
  webhooks_ = std::make_unique<WebhookServer>();
  if (whatsapp_webhook_)
    webhooks_->RouteWhatsApp(options_.whatsapp_webhook_path, whatsapp_webhook_.get());
  if (telegram_ && options_.telegram.webhook) {
    webhooks_->RouteTelegram(options_.telegram_webhook_path,
                             [this](const std::string& body, const std::string& secret) {
                               return telegram_->HandleWebhook(body, secret);
                             });
  }
  absl::StatusOr<int> bound = webhooks_->Start(host, port);
  if (!bound.ok()) return bound.status();
  webhook_port_ = *bound;
  log->info("webhook listener on {}:{}", host, webhook_port_);
  return absl::OkStatus();
}

void Gateway::Stop() {
  stop_.Notify();
  if (webhooks_) webhooks_->Stop();
  if (telegram_) telegram_->Stop();
}

absl::StatusOr<SentReply> Gateway::Send(const std::string& chat_key, const std::string& text,
                                        const std::string& reply_to, int64_t outbox_id) {
  if (outbox_id != 0 && ledger_) return SendOutboxEntry(chat_key, text, reply_to, outbox_id);
  absl::StatusOr<std::vector<std::string>> ids = SendToChannel(chat_key, text, reply_to, nullptr);
  if (!ids.ok()) return ids.status();
  return SentReply{*ids, 0};
}

absl::StatusOr<SentReply> Gateway::SendOutboxEntry(const std::string& chat_key,
                                                   const std::string& text,
                                                   const std::string& reply_to, int64_t outbox_id) {
  auto log = GetLogger("gateway");
  std::string entry = "outbox " + std::to_string(outbox_id);
  // The router retries an entry whose Send outlived its deadline while the first attempt may
  // still be sending; the retry must not send the same chunks alongside it.
  if (!ledger_->Begin(outbox_id)) {
    return absl::UnavailableError("send " + entry + " to " + chat_key +
                                  ": an earlier attempt is still sending it");
  }
  absl::Cleanup end_attempt = [&] { ledger_->End(outbox_id); };
  uint64_t fingerprint = ReplyFingerprint(chat_key, text);
  ChunkLedger::Progress before = ledger_->Get(outbox_id, fingerprint);
  SentReply reply{before.ids, static_cast<int>(before.ids.size())};
  if (before.complete) {
    log->info("{} to {}: delivered before as {} message(s), not sent again", entry, chat_key,
              before.ids.size());
    return reply;
  }
  if (before.sending) {
    // Telegram and WhatsApp have no idempotent send: repeating the chunk may show it twice,
    // skipping it may lose it. A reply seen twice is the lesser harm.
    log->warn(
        "{} to {}: chunk {} may have reached the chat before the gateway stopped; "
        "sending it again (the chat may see it twice)",
        entry, chat_key, before.ids.size() + 1);
  } else if (!before.ids.empty()) {
    log->info("{} to {}: resuming after {} chunk(s) delivered earlier", entry, chat_key,
              before.ids.size());
  }

  ChunkProgress progress;
  progress.delivered = before.ids;
  progress.on_sending = [&](const std::vector<std::string>& ids) {
    absl::Status saved = ledger_->RecordSending(outbox_id, fingerprint, ids);
    if (!saved.ok()) log->warn("{}: {}", entry, std::string(saved.message()));
  };
  std::vector<std::string> delivered = before.ids;
  progress.on_chunk = [&](const std::vector<std::string>& ids, size_t total) {
    delivered = ids;
    // WhatsApp's status callbacks name the wamid only: remember its outbox entry.
    if (HasPrefix(chat_key, "wa:")) whatsapp_deliveries_.RememberSent(ids.back(), outbox_id);
    if (ids.size() == total) return;  // recorded below, once the send returned
    absl::Status saved = ledger_->Record(outbox_id, fingerprint, ids, false);
    if (!saved.ok()) log->warn("{}: {}", entry, std::string(saved.message()));
  };
  absl::StatusOr<std::vector<std::string>> ids = SendToChannel(chat_key, text, reply_to, &progress);
  if (ids.ok()) {
    absl::Status saved = ledger_->Record(outbox_id, fingerprint, *ids, true);
    if (!saved.ok()) log->warn("{}: {}", entry, std::string(saved.message()));
    reply.platform_ids = *ids;
  } else {
    // The send ended: what went out is recorded and the next attempt resumes after it (a
    // chunk whose answer never came is sent again, as before this ledger existed).
    absl::Status saved = ledger_->Record(outbox_id, fingerprint, delivered, false);
    if (!saved.ok()) log->warn("{}: {}", entry, std::string(saved.message()));
  }
  if (!ids.ok()) return ids.status();
  return reply;
}

absl::StatusOr<std::vector<std::string>> Gateway::SendToChannel(const std::string& chat_key,
                                                                const std::string& text,
                                                                const std::string& reply_to,
                                                                ChunkProgress* progress) {
  auto not_configured = [&](const char* what) {
    return absl::FailedPreconditionError("send " + chat_key + ": " + what + " is not configured");
  };
  if (HasPrefix(chat_key, "local:")) return local_.Send(chat_key, text);
  if (HasPrefix(chat_key, "tg:")) {
    if (!telegram_) return not_configured("Telegram (TELEGRAM_BOT_TOKEN)");
    return telegram_->Send(chat_key, text, reply_to, progress);
  }
  if (HasPrefix(chat_key, "wa:")) {
    if (!whatsapp_sender_) return not_configured("WhatsApp (WHATSAPP_ACCESS_TOKEN)");
    absl::StatusOr<std::vector<std::string>> ids =
        whatsapp_sender_->Send(chat_key, text, reply_to, progress);
    if (!ids.ok()) {
      whatsapp_health_.Failed(std::string(ids.status().message()), clock_->Now());
      return ids;
    }
    whatsapp_health_.CountSent(static_cast<int64_t>(ids->size()));
    return ids;
  }
  return absl::InvalidArgumentError("send " + chat_key + ": unknown channel prefix");
}

absl::Status Gateway::SetTyping(const std::string& chat_key, bool on) {
  if (HasPrefix(chat_key, "tg:")) {
    if (telegram_) telegram_->SetTyping(chat_key, on);
    return absl::OkStatus();
  }
  // WhatsApp's typing indicator needs an inbound message id; local clients need none.
  if (HasPrefix(chat_key, "wa:") || HasPrefix(chat_key, "local:")) return absl::OkStatus();
  return absl::InvalidArgumentError("set typing " + chat_key + ": unknown channel prefix");
}

std::vector<ChannelStatus> Gateway::Status() const {
  std::vector<ChannelStatus> out;
  if (telegram_) {
    out.push_back(telegram_->Status());
  } else {
    ChannelStatus off;
    off.channel = "telegram";
    out.push_back(off);
  }
  ChannelStatus wa = whatsapp_health_.Get();
  wa.enabled = options_.whatsapp_enabled;
  out.push_back(wa);
  out.push_back(local_.Status());
  return out;
}

}  // namespace clawdie::gateway
