// The whole public C++ API of tvx.
#pragma once

#include <tvx/core.h>
#include <tvx/io.h>
#include <tvx/models.h>
#include <tvx/ops.h>
#include <tvx/transforms.h>
