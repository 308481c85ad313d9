#pragma once

#include <node_api.h>

#include "ring.h"

// Defaults: 4 KiB snap covers the headers and first payload bytes DPI inspects; 64 x 1 MiB blocks
// buffer about a second at 500k small frames/s; 10 ms bounds how long a quiet block waits.
constexpr uint32_t kDefaultSnapLen = 4096;
constexpr uint32_t kDefaultBlockSize = 1u << 20;
constexpr uint32_t kDefaultBlockCount = 64;
constexpr uint32_t kDefaultBlockTimeoutMs = 10;

// Reads and validates the JS options object (undefined allowed). False with an exception pending.
bool ParseRingConfig(napi_env env, napi_value options, RingConfig* out);

// Reads an optional integer argument in [min, max]; false with an exception pending.
bool ReadUint(napi_env env, napi_value value, const char* name, uint32_t min, uint32_t max,
              uint32_t fallback, uint32_t* out);
