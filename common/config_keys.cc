// The registry of configuration keys. docs/configuration.md and
// deploy/clawdie.conf.sample document the same keys; keep them in step.
#include "common/config.h"

namespace clawdie {

const std::vector<ConfigKey>& KnownConfigKeys() {
  static const auto* keys = new std::vector<ConfigKey>{
      // General.
      {"ASSISTANT_NAME", "Andy", false, "Name the assistant answers to; default trigger @NAME"},
      {"TZ", "UTC", false, "Default IANA time zone for prompts and cron tasks"},
      {"LOG_LEVEL", "info", false, "LEVEL or LEVEL,component:level,..."},
      {"CLAWDIE_DATA_DIR", "", false, "Database and group folders"},
      {"CLAWDIE_RUN_DIR", "", false, "Directory of the services' Unix sockets"},
      {"CLAWDIE_LOG_DIR", "", false, "Directory of the services' log files; empty: stderr only"},
      {"CLAWDIE_STORE_ADDR", "", false, "Address of clawdie-store (unix:/path or host:port)"},
      {"CLAWDIE_ROUTER_ADDR", "", false, "Address of clawdie-router"},
      {"CLAWDIE_GATEWAY_ADDR", "", false, "Address of clawdie-gateway"},
      {"CLAWDIE_BROKER_ADDR", "", false, "Address of clawdie-broker"},
      {"CLAWDIE_TLS_CERT", "", false, "PEM certificate of this service for TCP listeners/clients"},
      {"CLAWDIE_TLS_KEY", "", true, "PEM private key matching CLAWDIE_TLS_CERT"},
      {"CLAWDIE_TLS_CA", "", false, "PEM CA bundle that peers' certificates must chain to"},
      {"CLAWDIE_CALL_TIMEOUT", "10s", false, "Deadline of ordinary calls between services"},
      // Store.
      {"CLAWDIE_MAX_MESSAGE_BYTES", "65536", false, "Longest message text the store accepts"},
      // Channels.
      {"TELEGRAM_BOT_TOKEN", "", true, "Bot token from @BotFather; enables Telegram"},
      {"TELEGRAM_API_BASE", "https://api.telegram.org", false, "Bot API base URL"},
      {"TELEGRAM_MODE", "poll", false, "poll (getUpdates) or webhook"},
      {"TELEGRAM_WEBHOOK_URL", "", false, "Public URL Telegram posts updates to (webhook mode)"},
      {"TELEGRAM_WEBHOOK_SECRET", "", true, "secret_token checked on webhook requests"},
      {"WHATSAPP_ACCESS_TOKEN", "", true, "Cloud API access token; enables WhatsApp"},
      {"WHATSAPP_PHONE_NUMBER_ID", "", false, "Cloud API phone number id to send from"},
      {"WHATSAPP_APP_SECRET", "", true, "App secret for X-Hub-Signature-256"},
      {"WHATSAPP_VERIFY_TOKEN", "", true, "Token answered in the webhook verification"},
      {"WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0", false, "Graph API base URL"},
      {"CLAWDIE_WEBHOOK_LISTEN", "", false, "host:port of the gateway's webhook listener"},
      {"CLAWDIE_LOCAL_CHAT", "true", false, "Serve the local chat channel"},
      // Model.
      {"ANTHROPIC_API_KEY", "", true, "Anthropic API key (held by the broker only)"},
      {"OPENAI_API_KEY", "", true, "API key of an OpenAI-compatible server, if it needs one"},
      {"CLAWDIE_MODEL_PROVIDER", "anthropic", false, "anthropic or openai"},
      {"CLAWDIE_MODEL", "claude-sonnet-4-5", false, "Model name"},
      {"CLAWDIE_MODEL_BASE_URL", "", false, "Provider base URL; empty: the provider's public API"},
      // Sandboxes.
      {"CLAWDIE_SANDBOX", "bwrap", false, "docker, jail, bwrap or process"},
      {"DOCKER_HOST", "unix:///var/run/docker.sock", false, "Docker Engine address"},
      {"DOCKER_TLS_VERIFY", "", false, "Non-empty: use TLS client certificates for DOCKER_HOST"},
      {"DOCKER_CERT_PATH", "", false, "Directory with ca.pem, cert.pem, key.pem"},
      {"CLAWDIE_DOCKER_REMOTE", "auto", false,
       "auto, yes or no: copy group folders to the daemon instead of bind-mounting"},
      {"CLAWDIE_DOCKER_COPY_LIMIT", "1g", false, "Cap of each group folder copy (remote docker)"},
      {"CLAWDIE_AGENT_IMAGE", "clawdie-agent:latest", false, "Docker image of the agent"},
      {"CLAWDIE_AGENT_PATH", "", false, "Host path of clawdie-agent for bwrap/process/jail"},
      {"CLAWDIE_MOUNT_ALLOWLIST", "", false, "JSON allowlist of extra mounts"},
      {"CLAWDIE_JAIL_BASE", "", false, "Read-only base root for per-run jails (FreeBSD)"},
      {"CLAWDIE_BROKER_INSTALL_ID", "default", false,
       "Label value naming this broker's containers"},
      {"CLAWDIE_SANDBOX_UID", "65534", false, "User id agents run as (bwrap, jail, docker)"},
      {"CLAWDIE_SANDBOX_GID", "65534", false, "Group id agents run as"},
      {"CLAWDIE_BWRAP_PATH", "/usr/bin/bwrap", false, "bwrap executable"},
      {"CLAWDIE_AGENT_COMMAND", "/usr/local/bin/clawdie-agent", false, "Agent path in the image"},
      {"CLAWDIE_AGENT_CPU_MILLIS", "", false, "CPU limit per sandbox, thousandths of a CPU"},
      {"CLAWDIE_AGENT_OUTPUT_LIMIT", "10m", false, "Stdout and stderr cap per run"},
      {"CLAWDIE_GROUPS_DIR", "", false, "Group folders; default <data dir>/groups"},
      {"CLAWDIE_JAIL_USER", "", false, "User the agent runs as inside a jail"},
      {"CLAWDIE_BASTILLE_JAIL", "", false, "Persistent jail agents run in; empty: a jail per run"},
      {"MAX_CONCURRENT_AGENTS", "5", false, "Agents running at once, all groups"},
      {"AGENT_TIMEOUT", "30m", false, "Hard timeout of one run"},
      {"IDLE_TIMEOUT", "30m", false, "How long an answered agent waits for follow-ups"},
      {"CLAWDIE_AGENT_MEMORY", "1g", false, "Memory limit per sandbox"},
      {"CLAWDIE_AGENT_PIDS", "256", false, "Process limit per sandbox"},
      {"CLAWDIE_PROMPT_MAX_MESSAGES", "50", false, "Messages in one prompt; older are cut"},
      // Router.
      {"CLAWDIE_ROUTER_ID", "", false, "Scheduler lease owner; default router@<hostname>"},
      {"CLAWDIE_SCHEDULER_POLL", "5s", false, "How often the router claims due tasks"},
  };
  return *keys;
}

}  // namespace clawdie
