;;; The nablisp prelude: procedures written in nablisp itself, loaded when a session starts.
