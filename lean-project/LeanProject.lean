import LeanProject.Basic
import LeanProject.Lists
import LeanProject.NumberTheory
