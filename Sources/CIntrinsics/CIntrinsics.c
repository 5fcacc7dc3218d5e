// The functions are static inline in the header; this file only makes the target buildable.
#include "CIntrinsics.h"
