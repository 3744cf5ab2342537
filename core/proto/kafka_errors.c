#include "proto/kafka_errors.h"

static const char *const kp_error_names[KP_ERR_MAX + 2] = {
#define KP_ERR_NAME_(code, name) [(code) + 1] = #name,
    KP_ERRORS(KP_ERR_NAME_)
#undef KP_ERR_NAME_
};

const char *kp_error_name(int16_t code)
{
    if (code < -1 || code > KP_ERR_MAX || !kp_error_names[code + 1])
        return "UNKNOWN_ERROR_CODE";
    return kp_error_names[code + 1];
}
