#include "common/osb_compat.h"
int main(void){return 0;}
