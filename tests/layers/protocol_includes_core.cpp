// Must not compile: protocol/ is the bottom layer and sees nothing of ours.
#include "snorky/core/node.hpp"
