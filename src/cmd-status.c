// SPDX-License-Identifier: GPL-2.0-or-later
/* PLACEHOLDER: replaced by the module owner. */
#include "commands.h"
#include "log.h"

int cmd_status(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return log_error_errno(-EOPNOTSUPP, "'status' is not implemented yet");
}
