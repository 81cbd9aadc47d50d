// Schemas and descriptions of the agent's tools; see tools.h.
#include <array>

#include "container/tools.h"

namespace clawdie::agent {
namespace {

using nlohmann::json;

json Object(json properties, std::vector<std::string> required) {
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", required}};
}

json Str(std::string description) { return {{"type", "string"}, {"description", description}}; }

constexpr std::array<std::string_view, 7> kClawdieTools = {
    "send_message", "schedule_task", "list_tasks",    "pause_task",
    "resume_task",  "cancel_task",   "register_group"};

ToolSpec ScheduleTaskSpec() {
  return {"schedule_task",
          "Schedule a task: at the given time(s) an agent runs with `prompt` for this chat and "
          "its answer is sent to the chat. Times are local wall-clock times in the group's time "
          "zone (see the system prompt) unless an offset is given.",
          Object({{"prompt", Str("What the agent should do when the task runs, written as an "
                                 "instruction to yourself with all the context it needs.")},
                  {"schedule_type",
                   {{"type", "string"},
                    {"enum", {"cron", "interval", "once"}},
                    {"description",
                     "cron: a 5-field cron expression (minute hour day-of-month month "
                     "day-of-week), e.g. \"0 9 * * 1-5\" for 09:00 on weekdays; @hourly, "
                     "@daily, @weekly, @monthly and @yearly also work. interval: a duration "
                     "such as \"30m\", \"2h\" or \"1d\"; each run is anchored to the previous "
                     "due time. once: a local date-time \"YYYY-MM-DDTHH:MM:SS\" (no offset = "
                     "the group's time zone) or an instant with an offset, e.g. "
                     "\"2026-12-11T09:00:00+01:00\"."}}},
                  {"schedule_value", Str("The cron expression, duration or date-time, in the "
                                         "format schedule_type describes.")},
                  {"context_mode",
                   {{"type", "string"},
                    {"enum", {"group", "isolated"}},
                    {"description",
                     "group: the task continues this chat's conversation and memory. isolated "
                     "(default): the task starts a fresh conversation; put everything it needs "
                     "into the prompt."}}},
                  {"target_group",
                   Str("Main group only: the folder of another group to schedule the task "
                       "for. Omit to schedule for this chat.")}},
                 {"prompt", "schedule_type", "schedule_value"})};
}

json TaskIdInput() {
  return Object({{"task_id", Str("The task's id, as list_tasks shows it.")}}, {"task_id"});
}

}  // namespace

std::vector<ToolSpec> BuiltinToolSpecs() {
  return {
      {"bash",
       "Run a shell command with /bin/sh in the group's workspace (the working directory). "
       "stdout and stderr are merged; the output is cut after a limit and the command is "
       "killed (with everything it started) after a timeout; both are reported after the "
       "output together with the exit code. There is no network access unless the operator "
       "allowed it.",
       Object({{"command", Str("The command line to run.")},
               {"timeout_seconds",
                {{"type", "integer"},
                 {"minimum", 1},
                 {"description", "Optional timeout in seconds (default set by the operator)."}}}},
              {"command"})},
      {"read_file",
       "Read a text file. Relative paths are in the workspace. Returns the file's lines, "
       "optionally a range of them.",
       Object(
           {{"path", Str("The file to read.")},
            {"offset",
             {{"type", "integer"},
              {"minimum", 1},
              {"description", "First line to return (1-based)."}}},
            {"limit",
             {{"type", "integer"}, {"minimum", 1}, {"description", "How many lines to return."}}}},
           {"path"})},
      {"write_file",
       "Create or replace a file with the given content; parent directories are created.",
       Object({{"path", Str("The file to write.")}, {"content", Str("The complete new content.")}},
              {"path", "content"})},
      {"edit_file",
       "Replace an exact piece of text in a file. old_string must match exactly once (include "
       "surrounding lines to make it unique) unless replace_all is true.",
       Object(
           {{"path", Str("The file to edit.")},
            {"old_string", Str("The exact text to replace, including whitespace.")},
            {"new_string", Str("The replacement text.")},
            {"replace_all", {{"type", "boolean"}, {"description", "Replace every occurrence."}}}},
           {"path", "old_string", "new_string"})},
      {"list_files", "List a directory: one entry per line, directories end with '/'.",
       Object({{"path", Str("The directory (default: the workspace).")},
               {"recursive", {{"type", "boolean"}, {"description", "Include subdirectories."}}}},
              {})},
      {"grep",
       "Search files for a regular expression (ECMAScript syntax). Returns path:line: text "
       "for each matching line.",
       Object(
           {{"pattern", Str("The regular expression.")},
            {"path", Str("A file or directory to search (default: the workspace).")},
            {"ignore_case", {{"type", "boolean"}, {"description", "Match case-insensitively."}}}},
           {"pattern"})},
  };
}

std::vector<ToolSpec> ClawdieToolSpecs(bool is_main) {
  std::vector<ToolSpec> specs = {
      {"send_message",
       "Send a message to this chat right away, before your final answer (for progress "
       "updates during long work). Your final answer is sent anyway; do not repeat it here.",
       Object({{"text", Str("The message text.")}}, {"text"})},
      ScheduleTaskSpec(),
      {"list_tasks", "List the scheduled tasks of this chat (all groups' tasks in the main group).",
       Object(json::object(), {})},
      {"pause_task", "Pause a scheduled task until it is resumed.", TaskIdInput()},
      {"resume_task", "Resume a paused task.", TaskIdInput()},
      {"cancel_task", "Cancel a scheduled task for good.", TaskIdInput()},
  };
  if (is_main) {
    specs.push_back(
        {"register_group", "Register a chat as a group the assistant serves (main group only).",
         Object(
             {{"jid", Str("The chat id, e.g. tg:-1002291837465 or wa:46701234567.")},
              {"name", Str("A display name for the group.")},
              {"folder", Str("The group's folder name: letters, digits, '_' and '-'.")},
              {"trigger", Str("The trigger word, e.g. @Andy (default: @<assistant name>).")},
              {"requires_trigger",
               {{"type", "boolean"},
                {"description", "Whether messages must start with the trigger (default true)."}}}},
             {"jid", "name", "folder"})});
  }
  return specs;
}

bool IsClawdieTool(std::string_view name) {
  for (std::string_view tool : kClawdieTools) {
    if (tool == name) return true;
  }
  return false;
}

}  // namespace clawdie::agent
