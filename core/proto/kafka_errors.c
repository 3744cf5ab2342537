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

int16_t kp_coordinator_append_error(int16_t err, int16_t too_large)
{
    switch (err) {
    case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KP_ERR_NOT_ENOUGH_REPLICAS:
    case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case KP_ERR_REQUEST_TIMED_OUT:
        return KP_ERR_COORDINATOR_NOT_AVAILABLE;
    case KP_ERR_NOT_LEADER_OR_FOLLOWER:
    case KP_ERR_KAFKA_STORAGE_ERROR:
        return KP_ERR_NOT_COORDINATOR;
    case KP_ERR_MESSAGE_TOO_LARGE:
    case KP_ERR_RECORD_LIST_TOO_LARGE:
    case KP_ERR_INVALID_FETCH_SIZE:
        return too_large;
    default:
        return err;
    }
}
