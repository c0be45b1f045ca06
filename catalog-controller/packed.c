/* catalog-controller/packed.c: LZ77 against a preset dictionary, for the cached objects' JSON.
 *
 * The packed form is a sequence of tokens, ended by a NUL byte:
 *   0x01..0x7f       a literal run: that many bytes follow, copied as they are;
 *   0x80 + (len-4)   a match of len (4..131) bytes, then two bytes H, L in 1..255: the match
 *   H L              starts dist = (H-1)*255 + (L-1) + 1 bytes before the current position of
 *                    the dictionary followed by the output so far (1..65025).
 * No token byte is NUL, so the packed form is a C string. */
#include "common/osb_compat.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/osb_mem.h"
#include "catalog-controller/packed.h"

/* What the objects this controller caches have in common, as its writes and the API server
 * spell them (compact JSON). Later bytes are found first (the hash chains run backwards). */
static const char dict[] =
        "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":"
        "\\\"servicecatalog.k8s.io/v1beta1\\\",\\\"kind\\\":\\\"ServiceInstance\\\",\\\"metadata\\\":{"
        "\\\"annotations\\\":{},\\\"name\\\":\\\"\\\",\\\"namespace\\\":\\\"\\\"},\\\"spec\\\":{"
        "\\\"clusterServiceClassExternalName\\\":\\\"\\\",\\\"clusterServicePlanExternalName\\\":\\\"\\\"}}\\n\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"\",\"blockOwnerDeletion\":true,\"controller\":true,\"kind\":\"\","
        "\"name\":\"\",\"uid\":\"\"}],"
        "\"spec\":{\"serviceClassExternalName\":\"\",\"serviceClassRef\":{\"name\":\"\"},"
        "\"servicePlanExternalName\":\"\",\"servicePlanRef\":{\"name\":\"\"},\"parameters\":{},"
        "\"parametersFrom\":[{\"secretKeyRef\":{\"key\":\"\",\"name\":\"\"}}],\"secretTransforms\":[],"
        "\"userInfo\":{\"extra\":{},\"groups\":[\"system:authenticated\"],\"uid\":\"\",\"username\":\"\"}},"
        "\"status\":{\"conditions\":[{\"lastTransitionTime\":\"20\",\"message\":\"\",\"reason\":\"\","
        "\"status\":\"False\",\"type\":\"Failed\"}],\"parameterChecksum\":\"\",\"dashboardURL\":\"\","
        "\"userSpecifiedClassName\":\"ServiceClass/\",\"defaultProvisionParameters\":{},"
        "\"maintenanceInfo\":{\"version\":\"\"},\"deprovisionStatus\":\"NotRequired\","
        "\"reason\":\"ErrorInstanceNotReady\",\"reason\":\"ReferencesNonexistentServicePlan\","
        "\"currentOperation\":\"Unbind\",\"operationStartTime\":\"20\",\"lastOperation\":\"\","
        "\"message\":\"The binding is being deleted asynchronously\",\"reason\":\"Unbinding\","
        "\"message\":\"The instance is being deprovisioned asynchronously\",\"reason\":\"Deprovisioning\","
        "\"status\":\"False\",\"type\":\"Ready\"}],\"currentOperation\":\"Deprovision\","
        "\"message\":\"The instance is being provisioned asynchronously\",\"reason\":\"Provisioning\","
        "\"status\":\"False\",\"type\":\"Ready\"}],\"currentOperation\":\"Provision\","
        "\"deprovisionStatus\":\"Required\",\"inProgressProperties\":{\"clusterServicePlanExternalID\":\"\","
        "\"clusterServicePlanExternalName\":\"\"},\"lastConditionState\":\"Provisioning\","
        "\"deletionGracePeriodSeconds\":0,\"deletionTimestamp\":\"20\","
        "{\"apiVersion\":\"servicecatalog.k8s.io/v1beta1\",\"kind\":\"ServiceBinding\",\"metadata\":{"
        "\"creationTimestamp\":\"20\",\"finalizers\":[\"kubernetes-incubator/service-catalog\"],"
        "\"generation\":1,\"name\":\"\",\"namespace\":\"\",\"resourceVersion\":\"\",\"uid\":\"\"},"
        "\"spec\":{\"externalID\":\"\",\"instanceRef\":{\"name\":\"\"},\"secretName\":\"\"},"
        "\"status\":{\"asyncOpInProgress\":false,\"binding\":{\"name\":\"\"},\"conditions\":[{"
        "\"lastTransitionTime\":\"20\",\"message\":\"Injected bind result\",\"reason\":\"InjectedBindResult\","
        "\"status\":\"True\",\"type\":\"Ready\"}],\"externalProperties\":{},\"lastConditionState\":\"Ready\","
        "\"lastCredentialsRotationTime\":\"20\",\"observedGeneration\":1,\"orphanMitigationInProgress\":false,"
        "\"reconciledGeneration\":1,\"unbindStatus\":\"Required\"}}"
        "{\"apiVersion\":\"servicecatalog.k8s.io/v1beta1\",\"kind\":\"ServiceInstance\",\"metadata\":{"
        "\"creationTimestamp\":\"20\",\"finalizers\":[\"kubernetes-incubator/service-catalog\"],"
        "\"generation\":1,\"labels\":{\"servicecatalog.k8s.io/spec.clusterServiceClassRef.name\":\"\","
        "\"servicecatalog.k8s.io/spec.clusterServicePlanRef.name\":\"\"},\"name\":\"\",\"namespace\":\"\","
        "\"resourceVersion\":\"\",\"uid\":\"\"},\"spec\":{\"clusterServiceClassExternalName\":\"\","
        "\"clusterServiceClassRef\":{\"name\":\"\"},\"clusterServicePlanExternalName\":\"\","
        "\"clusterServicePlanRef\":{\"name\":\"\"},\"externalID\":\"\",\"updateRequests\":0},"
        "\"status\":{\"asyncOpInProgress\":false,\"conditions\":[{\"lastTransitionTime\":\"20\","
        "\"message\":\"The instance was provisioned successfully\",\"reason\":\"ProvisionedSuccessfully\","
        "\"status\":\"True\",\"type\":\"Ready\"}],\"deprovisionStatus\":\"Required\","
        "\"externalProperties\":{\"clusterServicePlanExternalID\":\"\",\"clusterServicePlanExternalName\":\"\"},"
        "\"lastConditionState\":\"Ready\",\"observedGeneration\":1,\"orphanMitigationInProgress\":false,"
        "\"provisionStatus\":\"Provisioned\",\"reconciledGeneration\":1,"
        "\"userSpecifiedClassName\":\"ClusterServiceClass/\",\"userSpecifiedPlanName\":\"\"}}";

#define DICT_LEN (sizeof(dict) - 1)
#define MIN_MATCH 4
#define MAX_MATCH (0x7f + MIN_MATCH)
#define MAX_LITERALS 0x7f
#define MAX_DIST (255 * 255)
#define HASH_BITS 13
#define MAX_CHAIN 48

static uint32_t hash4(const unsigned char *p)
{
        uint32_t v = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* The hash chains of the dictionary's positions, built once: dict_head[hash] is the last
 * position with that hash, dict_prev[pos] the one before (-1: none). */
static int32_t dict_head[1 << HASH_BITS], dict_prev[DICT_LEN];
static pthread_once_t dict_once = PTHREAD_ONCE_INIT;

static void dict_index(void)
{
        memset(dict_head, 0xff, sizeof(dict_head));
        for (size_t i = 0; i + MIN_MATCH <= DICT_LEN; i++) {
                uint32_t h = hash4((const unsigned char *) dict + i);
                dict_prev[i] = dict_head[h];
                dict_head[h] = (int32_t) i;
        }
}

/* Appends the pending literal run [*lit, end) to @out. */
static void flush_literals(unsigned char **out, const unsigned char *buf, size_t *lit, size_t end)
{
        while (*lit < end) {
                size_t k = end - *lit < MAX_LITERALS ? end - *lit : MAX_LITERALS;
                *(*out)++ = (unsigned char) k;
                memcpy(*out, buf + *lit, k);
                *out += k;
                *lit += k;
        }
}

char *packed_pack(const char *text, size_t n)
{
        if (memchr(text, '\0', n))
                return NULL;
        size_t total = DICT_LEN + n;
        if (total > INT32_MAX)
                return NULL;
        (void) pthread_once(&dict_once, dict_index);
        /* the dictionary and the text in one buffer, so that matches may run across both; the
         * chains of the text's positions (prev, by position - DICT_LEN) lead on into the
         * dictionary's */
        osb_autofree unsigned char *buf = osb_malloc(total + 1);
        osb_autofree int32_t *head = osb_malloc(sizeof(dict_head));
        osb_autofree int32_t *prev = osb_malloc(sizeof(int32_t) * (n + 1));
        osb_autofree char *ret = osb_malloc(n + n / MAX_LITERALS + 2);
        if (!buf || !head || !prev || !ret)
                return NULL;
        memcpy(buf, dict, DICT_LEN);
        memcpy(buf + DICT_LEN, text, n);
        memcpy(head, dict_head, sizeof(dict_head));
        size_t i;
        unsigned char *out = (unsigned char *) ret;
        size_t lit = DICT_LEN;
        for (i = DICT_LEN; i < total;) {
                size_t best = 0, best_at = 0;
                if (i + MIN_MATCH <= total) {
                        size_t limit = total - i < MAX_MATCH ? total - i : MAX_MATCH;
                        uint32_t h = hash4(buf + i);
                        int chain = 0;
                        for (int32_t c = head[h]; c >= 0 && i - (size_t) c <= MAX_DIST && chain < MAX_CHAIN;
                             c = (size_t) c < DICT_LEN ? dict_prev[c] : prev[c - DICT_LEN], chain++) {
                                size_t k = 0;
                                while (k < limit && buf[c + k] == buf[i + k])
                                        k++;
                                if (k > best) {
                                        best = k;
                                        best_at = (size_t) c;
                                        if (k == limit)
                                                break;
                                }
                        }
                        prev[i - DICT_LEN] = head[h];
                        head[h] = (int32_t) i;
                }
                if (best < MIN_MATCH) {
                        i++;
                        continue;
                }
                flush_literals(&out, buf, &lit, i);
                size_t dist = i - best_at - 1;
                *out++ = (unsigned char) (0x80 + best - MIN_MATCH);
                *out++ = (unsigned char) (dist / 255 + 1);
                *out++ = (unsigned char) (dist % 255 + 1);
                /* the positions inside the match are found by later matches too */
                for (size_t j = i + 1; j < i + best && j + MIN_MATCH <= total; j++) {
                        uint32_t h = hash4(buf + j);
                        prev[j - DICT_LEN] = head[h];
                        head[h] = (int32_t) j;
                }
                i += best;
                lit = i;
        }
        flush_literals(&out, buf, &lit, total);
        *out = '\0';
        /* a copy of its own size: what the cache keeps (the worst case above is ~4 times that) */
        return osb_strdup(ret);
}

/* Walks the tokens of @p: the unpacked length into *len, writing the bytes to @out when not
 * NULL. Returns 0, or -EINVAL for what packed_pack() cannot have written. */
static int unpack_into(const unsigned char *p, char *out, size_t *len)
{
        size_t n = 0;
        while (*p) {
                unsigned t = *p++;
                if (t <= MAX_LITERALS) {
                        if (memchr(p, '\0', t))
                                return -EINVAL;
                        if (out)
                                memcpy(out + n, p, t);
                        p += t;
                        n += t;
                        continue;
                }
                if (!p[0] || !p[1])
                        return -EINVAL;
                size_t k = t - 0x80 + MIN_MATCH, dist = (size_t) (p[0] - 1) * 255 + (p[1] - 1) + 1;
                p += 2;
                if (dist > DICT_LEN + n)
                        return -EINVAL;
                size_t src = DICT_LEN + n - dist;
                if (out)
                        for (size_t j = 0; j < k; j++, src++)
                                out[n + j] = src < DICT_LEN ? dict[src] : out[src - DICT_LEN];
                n += k;
        }
        *len = n;
        return 0;
}

char *packed_unpack(const char *packed, size_t *n)
{
        size_t len = 0;
        if (unpack_into((const unsigned char *) packed, NULL, &len) < 0)
                return NULL;
        char *text = osb_malloc(len + 1);
        if (!text)
                return NULL;
        (void) unpack_into((const unsigned char *) packed, text, &len);
        text[len] = '\0';
        if (n)
                *n = len;
        return text;
}
