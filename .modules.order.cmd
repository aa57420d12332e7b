savedcmd_/work/main/modules.order := {   echo /work/main/relay_rs.o; :; } > /work/main/modules.order
