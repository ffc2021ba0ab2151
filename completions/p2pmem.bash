# bash completion for p2pmem(1)                        -*- shell-script -*-
# SPDX-License-Identifier: MIT

# PCI addresses of the providers the running system has.
_p2pmem_providers()
{
	local d
	for d in /sys/bus/pci/devices/*/p2pmem /sys/class/p2pmem/*/device; do
		[[ -e $d ]] || continue
		d=$(readlink -f "${d%/p2pmem}")
		printf '%s\n' "${d##*/}"
	done
}

_p2pmem()
{
	local cur prev words cword cmd i
	_init_completion -s || return

	cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		list | topo | check | copy | bench | nvmet | help) cmd=${words[i]}; break ;;
		esac
	done

	case $prev in
	-o | --output | --output-format)
		if [[ $cmd == topo ]]; then
			COMPREPLY=($(compgen -W 'text json dot' -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'text json' -- "$cur"))
		fi
		return ;;
	--sysfs-root | --journal-dir)
		_filedir -d
		return ;;
	--provider)
		COMPREPLY=($(compgen -W "$(_p2pmem_providers)" -- "$cur"))
		return ;;
	--via)
		COMPREPLY=($(compgen -W 'device p2p host' -- "$cur"))
		return ;;
	-t | --transport)
		COMPREPLY=($(compgen -W 'rdma tcp loop' -- "$cur"))
		return ;;
	--p2pmem)
		COMPREPLY=($(compgen -W "auto off 1 $(_p2pmem_providers)" -- "$cur"))
		return ;;
	-a | --traddr | -s | --trsvcid | -w | --watch)
		return ;;
	--src-offset | --dst-offset | --length | --bs | --qd | --allocs | --repeat)
		return ;;
	esac

	local common='-o --output --output-format --sysfs-root -h --help -V --version'
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$common" -- "$cur"))
		else
			COMPREPLY=($(compgen -W 'list topo check copy bench nvmet help' -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		case $cmd in
		topo) COMPREPLY=($(compgen -W "$common --dot" -- "$cur")) ;;
		check) COMPREPLY=($(compgen -W "$common --provider" -- "$cur")) ;;
		copy) COMPREPLY=($(compgen -W "$common --src-offset --dst-offset --length --provider
			--bs --qd --verify --via --no-device-copy --allow-host-bounce --resume
			--journal-dir -q --quiet" -- "$cur")) ;;
		bench) COMPREPLY=($(compgen -W "$common --length --bs --qd --provider --allocs
			--repeat" -- "$cur")) ;;
		nvmet) COMPREPLY=($(compgen -W "$common --transport --traddr --trsvcid --p2pmem
			--no-p2p --host --dry-run --watch" -- "$cur")) ;;
		*) COMPREPLY=($(compgen -W "$common" -- "$cur")) ;;
		esac
		return
	fi
	case $cmd in
	help) COMPREPLY=($(compgen -W 'list topo check copy bench nvmet' -- "$cur")) ;;
	nvmet)
		if [[ ${words[cword - 1]} == nvmet ]]; then
			COMPREPLY=($(compgen -W 'export unexport status' -- "$cur"))
		elif [[ ${words[*]} == *" unexport "* || ${words[*]} == *" status "* ]]; then
			COMPREPLY=($(compgen -W "$(ls /sys/kernel/config/nvmet/subsystems 2>/dev/null)" -- "$cur"))
		else
			_filedir
		fi ;;
	check | copy | bench)
		# devices (/dev/nvme*, PCI addresses) and files
		_filedir
		if [[ $cur != */* ]]; then
			COMPREPLY+=($(compgen -W "$(ls /sys/bus/pci/devices 2>/dev/null)" -- "$cur"))
		fi ;;
	esac
} &&
	complete -F _p2pmem p2pmem
