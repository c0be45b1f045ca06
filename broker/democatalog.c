/* broker/democatalog.c: the built-in demo catalog (osb-broker --demo), also the fixture of the
 * controller's end-to-end tests, so its ids never change:
 *
 *   service bindery-demo-db      5e1d0db0-0000-4000-8000-000000000001
 *     plan small                 5e1d0db0-0000-4000-8000-000000000011  free, synchronous
 *     plan large                 5e1d0db0-0000-4000-8000-000000000012  paid, maintenance_info
 *                                                                       1.0.0, schemas, async
 *                                                                       optional (2s)
 *     plan async-only            5e1d0db0-0000-4000-8000-000000000013  async required (1s),
 *                                                                       bind async optional
 *   service bindery-demo-queue   5e1d0db0-0000-4000-8000-000000000002
 *     plan standard              5e1d0db0-0000-4000-8000-000000000021  synchronous
 *     plan always-fails          5e1d0db0-0000-4000-8000-000000000022  provision and bind fail
 *
 * The static backend's credentials use the placeholders {instance_id}, {binding_id},
 * {plan_id} and {service_id} (see backend_static.c). */
#include "common/osb_compat.h"

#include "broker/catalog.h"

#define DEMO_DB_CREDENTIALS                                                             \
        "\"credentials\": {"                                                            \
        "\"host\": \"db.demo.bindery.invalid\", "                                       \
        "\"port\": 5432, "                                                              \
        "\"username\": \"demo\", "                                                      \
        "\"password\": \"demo-{binding_id}\", "                                         \
        "\"uri\": \"postgres://demo@db.demo.bindery.invalid:5432/{instance_id}\"}"

#define DEMO_QUEUE_CREDENTIALS                                                          \
        "\"credentials\": {"                                                            \
        "\"uri\": \"amqp://demo:demo-{binding_id}@queue.demo.bindery.invalid:5672/{instance_id}\", " \
        "\"queue\": \"{instance_id}\"}"

#define DRAFT04 "\"$schema\": \"http://json-schema.org/draft-04/schema#\""

const char catalog_demo_json[] =
        "{\n"
        "  \"services\": [\n"
        "    {\n"
        "      \"name\": \"bindery-demo-db\",\n"
        "      \"id\": \"5e1d0db0-0000-4000-8000-000000000001\",\n"
        "      \"description\": \"A demo database; credentials are static\",\n"
        "      \"bindable\": true,\n"
        "      \"instances_retrievable\": true,\n"
        "      \"bindings_retrievable\": true,\n"
        "      \"plan_updateable\": true,\n"
        "      \"tags\": [\"demo\", \"database\", \"postgres\"],\n"
        "      \"metadata\": {\"displayName\": \"Bindery demo database\"},\n"
        "      \"plans\": [\n"
        "        {\n"
        "          \"id\": \"5e1d0db0-0000-4000-8000-000000000011\",\n"
        "          \"name\": \"small\",\n"
        "          \"description\": \"A small demo database, provisioned at once\",\n"
        "          \"free\": true,\n"
        "          \"metadata\": {\"displayName\": \"Small\"},\n"
        "          \"x-bindery-backend\": {\"type\": \"static\", " DEMO_DB_CREDENTIALS "}\n"
        "        },\n"
        "        {\n"
        "          \"id\": \"5e1d0db0-0000-4000-8000-000000000012\",\n"
        "          \"name\": \"large\",\n"
        "          \"description\": \"A large demo database with parameters; may provision asynchronously\",\n"
        "          \"free\": false,\n"
        "          \"metadata\": {\"displayName\": \"Large\"},\n"
        "          \"maintenance_info\": {\"version\": \"1.0.0\", \"description\": \"The first release of the large plan\"},\n"
        "          \"schemas\": {\n"
        "            \"service_instance\": {\n"
        "              \"create\": {\"parameters\": {" DRAFT04 ", \"type\": \"object\", "
        "\"properties\": {\"size\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}, "
        "\"region\": {\"type\": \"string\", \"enum\": [\"eu-west\", \"us-east\", \"ap-south\"]}}, "
        "\"additionalProperties\": false}},\n"
        "              \"update\": {\"parameters\": {" DRAFT04 ", \"type\": \"object\", "
        "\"properties\": {\"size\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100}}, "
        "\"additionalProperties\": false}}\n"
        "            }\n"
        "          },\n"
        "          \"x-bindery-backend\": {\"type\": \"static\", \"async\": \"optional\", \"delay\": \"2s\", "
        DEMO_DB_CREDENTIALS "}\n"
        "        },\n"
        "        {\n"
        "          \"id\": \"5e1d0db0-0000-4000-8000-000000000013\",\n"
        "          \"name\": \"async-only\",\n"
        "          \"description\": \"A demo database that is only provisioned asynchronously\",\n"
        "          \"free\": true,\n"
        "          \"x-bindery-backend\": {\"type\": \"static\", \"async\": \"required\", "
        "\"bind_async\": \"optional\", \"delay\": \"1s\", " DEMO_DB_CREDENTIALS "}\n"
        "        }\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"name\": \"bindery-demo-queue\",\n"
        "      \"id\": \"5e1d0db0-0000-4000-8000-000000000002\",\n"
        "      \"description\": \"A demo message queue; credentials are static\",\n"
        "      \"bindable\": true,\n"
        "      \"plan_updateable\": false,\n"
        "      \"tags\": [\"demo\", \"queue\"],\n"
        "      \"metadata\": {\"displayName\": \"Bindery demo queue\"},\n"
        "      \"plans\": [\n"
        "        {\n"
        "          \"id\": \"5e1d0db0-0000-4000-8000-000000000021\",\n"
        "          \"name\": \"standard\",\n"
        "          \"description\": \"A demo queue, provisioned at once\",\n"
        "          \"free\": true,\n"
        "          \"x-bindery-backend\": {\"type\": \"static\", " DEMO_QUEUE_CREDENTIALS "}\n"
        "        },\n"
        "        {\n"
        "          \"id\": \"5e1d0db0-0000-4000-8000-000000000022\",\n"
        "          \"name\": \"always-fails\",\n"
        "          \"description\": \"A plan whose provisioning and binding always fail, for testing error paths\",\n"
        "          \"free\": true,\n"
        "          \"x-bindery-backend\": {\"type\": \"static\", \"async\": \"optional\", \"delay\": \"1s\", "
        "\"fail\": [\"provision\", \"bind\"], "
        "\"fail_message\": \"the demo plan always-fails fails on purpose\", " DEMO_QUEUE_CREDENTIALS "}\n"
        "        }\n"
        "      ]\n"
        "    }\n"
        "  ]\n"
        "}\n";
