#include "sys_error.h"

#include <cerrno>

bool Fail(SysError* err, const char* syscall, std::string subject) {
  err->code = errno;
  err->syscall = syscall;
  err->subject = std::move(subject);
  return false;
}
