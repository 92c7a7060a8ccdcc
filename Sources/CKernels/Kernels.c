#include "Kernels.h"
