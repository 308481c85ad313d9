// A failed system call, carried back to the JS thread to become an Error with errno fields.
#pragma once

#include <string>

struct SysError {
  int code = 0;             // errno value
  const char* syscall = ""; // e.g. "setns"
  std::string subject;      // what the call was about, e.g. "/run/netns/mseg"; may be empty
};

// Fills *err from the current errno and returns false, so callers can `return Fail(...)`.
bool Fail(SysError* err, const char* syscall, std::string subject = std::string());
