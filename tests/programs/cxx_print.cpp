// A leak-free C++ program that prints (issue 14): libstdc++'s emergency exception pool and
// stdout's buffer are live at exit until the runtimes free them (__gnu_cxx::__freeres,
// __libc_freeres); DHAT with its defaults and memscope both report no leak.
#include <iostream>
#include <vector>

int main() {
  std::vector<int> v(1000);
  std::cout << "hi " << v.size() << std::endl;
}
