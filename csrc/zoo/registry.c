// registry.c - the catalogue of zoo models, in the order gaba.zoo.names()
// lists them: vision, audio, sensor (the 30), then the MLPerf Tiny
// reference networks.
#include "gaba/zoo.h"

#include <string.h>

#define MODELS(X)                                                                                  \
    X(gaba_zoo_micro_yolo_nano)                                                                    \
    X(gaba_zoo_efficient_edge_lite)                                                                \
    X(gaba_zoo_segment_micro)                                                                      \
    X(gaba_zoo_face_detect_nano)                                                                   \
    X(gaba_zoo_gesture_net_micro)                                                                  \
    X(gaba_zoo_ocr_nano)                                                                           \
    X(gaba_zoo_pose_estimate_micro)                                                                \
    X(gaba_zoo_depth_estimate_lite)                                                                \
    X(gaba_zoo_object_track_nano)                                                                  \
    X(gaba_zoo_scene_understand_micro)                                                             \
    X(gaba_zoo_keyword_spot_micro)                                                                 \
    X(gaba_zoo_audio_event_nano)                                                                   \
    X(gaba_zoo_speech_enhance_nano)                                                                \
    X(gaba_zoo_voice_activity_micro)                                                               \
    X(gaba_zoo_speaker_id_nano)                                                                    \
    X(gaba_zoo_music_genre_micro)                                                                  \
    X(gaba_zoo_emotion_recog_nano)                                                                 \
    X(gaba_zoo_sentiment_analysis_micro)                                                           \
    X(gaba_zoo_intent_classify_nano)                                                               \
    X(gaba_zoo_language_detect_nano)                                                               \
    X(gaba_zoo_anomaly_detect_edge)                                                                \
    X(gaba_zoo_time_series_forecast_micro)                                                         \
    X(gaba_zoo_sensor_fusion_nano)                                                                 \
    X(gaba_zoo_health_monitor_nano)                                                                \
    X(gaba_zoo_fall_detect_micro)                                                                  \
    X(gaba_zoo_energy_predict_nano)                                                                \
    X(gaba_zoo_motor_fault_micro)                                                                  \
    X(gaba_zoo_gait_analysis_nano)                                                                 \
    X(gaba_zoo_named_entity_micro)                                                                 \
    X(gaba_zoo_text_summarize_nano)                                                                \
    X(gaba_zoo_ref_ds_cnn_kws)                                                                     \
    X(gaba_zoo_ref_mobilenet_vww)                                                                  \
    X(gaba_zoo_ref_resnet8)                                                                        \
    X(gaba_zoo_ref_dense_autoencoder)

#define DECLARE(sym) extern const gaba_zoo_def sym;
MODELS(DECLARE)
#define ENTRY(sym) &sym,
static const gaba_zoo_def *const registry[] = {MODELS(ENTRY)};

const gaba_zoo_def *const *gaba_zoo_registry(int *count) {
    if (count) *count = (int)(sizeof registry / sizeof registry[0]);
    return registry;
}

const gaba_zoo_def *gaba_zoo_find(const char *name) {
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}
