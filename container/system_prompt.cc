#include "container/system_prompt.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "common/logging.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadMemoryFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return std::nullopt;
  std::string text(kMaxMemoryFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxMemoryFileBytes) {
    text.resize(kMaxMemoryFileBytes);
    text += "\n[cut: the file is longer than " + std::to_string(kMaxMemoryFileBytes) + " bytes]";
  }
  return text;
}

std::string LocalTime(absl::Time now, const std::string& timezone) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(timezone, &zone)) {
    GetLogger("agent")->warn("time zone {}: unknown; using UTC", timezone);
    zone = absl::UTCTimeZone();
  }
  return absl::FormatTime("%Y-%m-%d %H:%M:%S (%A), UTC offset %Ez", now, zone);
}

std::string Introduction(const AgentConfig& config, const StartRequest& start, absl::Time now) {
  std::ostringstream out;
  out << "You are " << start.assistant_name << ", a personal assistant people talk to in a chat ("
      << start.chat_jid << "). Your replies are sent to that chat, so write for a phone screen: "
      << "short paragraphs, simple Markdown (bold, italics, lists, code).\n\n"
      << "Current local time: " << LocalTime(now, start.timezone) << " in time zone "
      << start.timezone << ". Dates and times people mention are in this time zone.\n\n";
  if (start.is_scheduled_task) {
    out << "This run is a scheduled task, not a live message: carry out the prompt and send the "
        << "result to the chat; nobody is waiting to answer questions.\n\n";
  }
  out << "Your working directory is " << config.workspace.string()
      << ", this group's own folder; files you keep there persist between conversations. "
      << "CLAUDE.md in it is your memory for this group: update it when you learn something "
      << "worth remembering.";
  if (start.is_main) {
    out << " This is the main (administrator) group: you may also edit the global memory at "
        << config.global_md.string() << " and register other groups.";
  }
  std::error_code error;
  if (fs::is_directory(config.extra_dir, error)) {
    out << " Extra folders the operator shared are under " << config.extra_dir.string() << ".";
  }
  out << "\n\n";
  return out.str();
}

const char kToolGuide[] =
    "Tools: bash, read_file, write_file, edit_file, list_files and grep work on the files in this "
    "sandbox. send_message sends a message to the chat right away (use it for progress on long "
    "work); your final answer is sent anyway. schedule_task, list_tasks, pause_task, "
    "resume_task and cancel_task manage scheduled tasks: schedule times are local times in the "
    "time zone above. Text inside <internal>...</internal> is never sent to the chat: use it "
    "for notes to yourself.\n\n";

}  // namespace

std::string BuildSystemPrompt(const AgentConfig& config, const StartRequest& start,
                              absl::Time now) {
  std::string prompt = Introduction(config, start, now) + kToolGuide;
  const std::pair<const char*, fs::path> memory[] = {
      {"Global memory (global CLAUDE.md)", config.global_md},
      {"Group memory (CLAUDE.md)", config.workspace / "CLAUDE.md"},
      {"Identity (IDENTITY.md)", config.workspace / "IDENTITY.md"},
      {"About the user (USER.md)", config.workspace / "USER.md"},
  };
  for (const auto& [title, path] : memory) {
    std::optional<std::string> text = ReadMemoryFile(path);
    if (!text || text->empty()) continue;
    prompt += "## " + std::string(title) + "\n\n" + *text + "\n\n";
  }
  return prompt;
}

}  // namespace clawdie::agent
