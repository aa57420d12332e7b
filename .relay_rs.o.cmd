savedcmd_/work/main/relay_rs.o := ld.lld -m elf_x86_64 -z noexecstack   -r -o /work/main/relay_rs.o @/work/main/relay_rs.mod  ; ./tools/objtool/objtool --hacks=jump_label --hacks=noinstr --ibt --static-call --uaccess  --link  --module /work/main/relay_rs.o

/work/main/relay_rs.o: $(wildcard ./tools/objtool/objtool)
