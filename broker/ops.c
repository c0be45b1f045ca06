#include "common/osb_compat.h"
