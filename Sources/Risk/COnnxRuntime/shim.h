// COnnxRuntime: the ONNX Runtime C API (libonnxruntime.so from the PyPI wheel, the header from
// Debian's libonnxruntime-dev; scripts/install-onnxruntime.sh puts both in /usr/local with a
// libonnxruntime.pc). Only SpoofingModel imports it. The header may be older than the library:
// OrtGetApiBase()->GetApi(ORT_API_VERSION) works for any header version <= the runtime's.
#pragma once
#include <onnxruntime_c_api.h>
