#pragma once

#include <node_api.h>

// Defines the JS `Capture` class.
napi_value DefineCaptureClass(napi_env env);
