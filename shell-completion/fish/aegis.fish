# SPDX-License-Identifier: GPL-2.0-or-later
# fish completion for aegis(8)

set -l verbs run check-config status events reload explain

complete -c aegis -f
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -s h -l help -d 'Show help'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -s V -l version -d 'Show the version'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -a run -d 'Monitor connections (the daemon)'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -a check-config -d 'Validate the policy'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -a status -d 'State of the running daemon'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -a events -d 'Stream records from the daemon'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -a reload -d 'Reload the policy'
complete -c aegis -n "not __fish_seen_subcommand_from $verbs" -a explain -d 'Which rule matches'

complete -c aegis -n "__fish_seen_subcommand_from $verbs" -s h -l help -d 'Show help'

complete -c aegis -n "__fish_seen_subcommand_from run" -s c -l config -r -F -d 'Main policy file'
complete -c aegis -n "__fish_seen_subcommand_from run" -l json -d 'JSON lines on stdout'
complete -c aegis -n "__fish_seen_subcommand_from run" -l no-config -d 'Run without a policy'
complete -c aegis -n "__fish_seen_subcommand_from run" -s v -l verbose -d 'Debug diagnostics'

complete -c aegis -n "__fish_seen_subcommand_from check-config" -s c -l config -r -F -d 'Main policy file'
complete -c aegis -n "__fish_seen_subcommand_from check-config" -l drop-in -r -F -d 'Also read this drop-in'
complete -c aegis -n "__fish_seen_subcommand_from check-config" -l dump -d 'Print the merged policy'
complete -c aegis -n "__fish_seen_subcommand_from check-config" -s q -l quiet -d 'Errors only'

complete -c aegis -n "__fish_seen_subcommand_from status" -s j -l json -d 'Print JSON'

complete -c aegis -n "__fish_seen_subcommand_from events" -s f -l follow -d 'Keep streaming new records'
complete -c aegis -n "__fish_seen_subcommand_from events" -s j -l json -d 'Print JSON lines'
complete -c aegis -n "__fish_seen_subcommand_from events" -s n -l lines -x -d 'Start with the last N records'

complete -c aegis -n "__fish_seen_subcommand_from explain" -s e -l exe -r -F -d 'Executable path of the process'
complete -c aegis -n "__fish_seen_subcommand_from explain" -l cmdline -x -d 'argv joined by spaces'
complete -c aegis -n "__fish_seen_subcommand_from explain" -s u -l user -x -a '(__fish_complete_users)' -d 'User name or uid'
complete -c aegis -n "__fish_seen_subcommand_from explain" -l unit -x -d 'systemd unit'
complete -c aegis -n "__fish_seen_subcommand_from explain" -s d -l dst -x -d 'Peer HOST:PORT'
complete -c aegis -n "__fish_seen_subcommand_from explain" -s p -l proto -x -a 'tcp udp' -d 'Protocol'
complete -c aegis -n "__fish_seen_subcommand_from explain" -l direction -x -a 'out in listen' -d 'Direction'
complete -c aegis -n "__fish_seen_subcommand_from explain" -s c -l config -r -F -d 'Main policy file'
